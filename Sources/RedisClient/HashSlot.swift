/// Redis Cluster's key → slot rule: CRC16 (XMODEM) of the key, or of its `{hashtag}` when it has
/// a non-empty one, modulo 16384. The same rule places keys on a cluster's masters and splits a
/// keyspace into shards.
public enum HashSlot {
    /// Slots in a Redis Cluster.
    public static let count = 16384

    /// The slot of `key`.
    public static func of(_ key: [UInt8]) -> Int {
        key.withUnsafeBufferPointer { buffer in
            var hashed = buffer[...]
            if let open = buffer.firstIndex(of: UInt8(ascii: "{")),
                let close = buffer[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1
            {
                hashed = buffer[(open + 1)..<close]
            }
            return Int(crc16(hashed)) & (count - 1)
        }
    }

    static func crc16(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> UInt16 {
        var crc: UInt16 = 0
        for b in bytes { crc = (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ b)] }
        return crc
    }

    private static let table: [UInt16] = (0..<256).map { i in
        var c = UInt16(i) << 8
        for _ in 0..<8 { c = c & 0x8000 != 0 ? (c << 1) ^ 0x1021 : c << 1 }
        return c
    }
}

/// One of `count` deterministic, disjoint parts of a keyspace: shard `index` (0-based) owns a
/// contiguous range of hash slots, so `0/n` … `n-1/n` cover every key exactly once, on a single
/// server and on a cluster alike.
public struct Shard: Sendable, Hashable, CustomStringConvertible {
    /// 0-based, below `count`.
    public let index: Int
    public let count: Int

    /// Shard `index` of `count`; nil unless `0 <= index < count <= 16384`.
    public init?(index: Int, count: Int) {
        guard count >= 1, count <= HashSlot.count, index >= 0, index < count else { return nil }
        self.index = index
        self.count = count
    }

    /// Parses `i/n` (0-based `i`, as Kubernetes' `JOB_COMPLETION_INDEX`).
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else { return nil }
        self.init(index: i, count: n)
    }

    /// The hash slots this shard owns.
    public var slots: Range<Int> {
        (index * HashSlot.count / count)..<((index + 1) * HashSlot.count / count)
    }

    /// True when `key` belongs to this shard.
    public func contains(_ key: [UInt8]) -> Bool {
        count == 1 || slots.contains(HashSlot.of(key))
    }

    /// `i/n`.
    public var description: String { "\(index)/\(count)" }
}
