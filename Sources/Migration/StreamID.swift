/// A stream entry ID (`ms-seq`), ordered as Redis orders them.
struct StreamID: Comparable, Sendable {
    var ms: UInt64
    var seq: UInt64

    static let zero = StreamID(ms: 0, seq: 0)

    init(ms: UInt64, seq: UInt64) {
        self.ms = ms
        self.seq = seq
    }

    /// Parses `ms-seq` (or `ms`); nil for anything else.
    init?(_ bytes: [UInt8]) {
        let parts = bytes.split(separator: UInt8(ascii: "-"), maxSplits: 1, omittingEmptySubsequences: false)
        guard let first = parts.first, let ms = UInt64(String(decoding: first, as: UTF8.self)) else { return nil }
        var seq: UInt64 = 0
        if parts.count == 2 {
            guard let s = UInt64(String(decoding: parts[1], as: UTF8.self)) else { return nil }
            seq = s
        }
        self.ms = ms
        self.seq = seq
    }

    static func < (a: StreamID, b: StreamID) -> Bool { (a.ms, a.seq) < (b.ms, b.seq) }
}
