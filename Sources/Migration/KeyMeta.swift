import RESP

/// What the probe learned about one key, atomically: its type, absolute expiry and size.
struct KeyMeta: Sendable {
    let key: [UInt8]
    let type: String
    /// Absolute expiry in Unix ms; -1 none; -2 gone.
    let expireAt: Int64
    let length: Int
    let memory: Int

    var isGone: Bool { type == "none" || expireAt == -2 }

    static let copyableTypes: Set<String> = ["string", "hash", "list", "set", "zset", "stream"]

    static func parse(key: [UInt8], _ reply: RESPValue) -> KeyMeta? {
        guard let a = reply.array, a.count == 4, let type = a[0].text else { return nil }
        return KeyMeta(
            key: key, type: type, expireAt: a[1].integer ?? -1, length: Int(a[2].integer ?? 0), memory: Int(a[3].integer ?? 0))
    }
}
