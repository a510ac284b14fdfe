/// What `upshift migrate` (`--mode auto`) bills to copy a key, estimated from what a read-only
/// census knows (type, length, size, TTL) — the figures `report` prints. The migration itself
/// counts exactly what it sends; this follows the same writes.
public enum CopyCost {
    /// Keys per batch, each batch's script call billed once.
    public static let keysPerCall = 200
    /// Arguments a command inside the write script carries.
    public static let elementsPerCommand = 7000

    /// Billed commands for one key; `chunkBytes` is what one request carries.
    public static func commands(type: KeyType, length: Int, bytes: Int, hasTTL: Bool, chunkBytes: Int) -> Int {
        switch type {
        case .string:
            // one SET … PXAT; a string bigger than a request goes in chunks, then a move into place
            return bytes <= chunkBytes ? 1 : (bytes + chunkBytes - 1) / chunkBytes * 2 + 3
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
}
