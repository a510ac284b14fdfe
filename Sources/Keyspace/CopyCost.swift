/// What `upshift migrate` (`--mode auto`) bills to copy a key, estimated from what a read-only
/// census knows (type, length, size, TTL) — the figures `report` prints. The migration itself
/// counts exactly what it sends; this follows the same writes.
public enum CopyCost {
    /// Keys per batch, each batch's script call billed once.
    public static let keysPerCall = 200
    /// Arguments a command inside the write script carries.
    public static let elementsPerCommand = 7000

    /// Billed commands for one key; `chunkBytes` is what one request carries; `scripted`, a string
    /// the batch script writes (its key or value is not UTF-8) rather than a SET in the pipeline.
    public static func commands(type: KeyType, length: Int, bytes: Int, hasTTL: Bool, chunkBytes: Int, scripted: Bool = false) -> Int {
        switch type {
        case .string:
            // one SET … PXAT, or for the script's strings a share of its MSET (`scriptedStringCommands`) and a
            // PEXPIREAT; a string bigger than a request goes in chunks, then a move into place
            guard bytes <= chunkBytes else { return (bytes + chunkBytes - 1) / chunkBytes * 2 + 3 }
            return scripted && !hasTTL ? 0 : 1
        case .hash, .list, .set, .zset, .stream:
            // one RESTORE of its DUMP; a key bigger than a request goes type by type in chunks
            if bytes <= chunkBytes && length <= 5000 { return 1 }
            let chunks = max((bytes + chunkBytes - 1) / chunkBytes, (length + 4999) / 5000)
            let adds = type == .stream ? length : (length + elementsPerCommand - 1) / elementsPerCommand
            return chunks + adds + 4
        case .json: return hasTTL ? 3 : 2
        case .module, .missing: return 0
        }
    }

    /// The MSETs that write `count` scripted strings: one per script call.
    public static func scriptedStringCommands(_ count: Int) -> Int {
        (count + keysPerCall - 1) / keysPerCall
    }
}
