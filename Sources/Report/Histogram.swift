/// A count per fixed bucket: the size and TTL distributions of a census. Fixed buckets keep
/// the census's memory constant however many keys it sees.
public struct Histogram: Codable, Sendable, Hashable {
    /// One bucket: its label and how many keys fell in it.
    public struct Bucket: Codable, Sendable, Hashable {
        /// `≤ 1 KB`, `< 1 h`, …
        public var label: String
        /// The inclusive upper bound (bytes or milliseconds); nil for the last, open bucket.
        public var upTo: Int?
        /// Keys in the bucket.
        public var count: Int
    }

    /// The buckets, smallest first.
    public var buckets: [Bucket]

    /// Empty buckets with these upper bounds (inclusive), plus an open one above the last.
    init(bounds: [Int], label: (Int) -> String, overflowLabel: String) {
        buckets = bounds.map { Bucket(label: label($0), upTo: $0, count: 0) } + [Bucket(label: overflowLabel, upTo: nil, count: 0)]
    }

    /// Counts one value in the first bucket whose bound holds it.
    mutating func add(_ value: Int) {
        let index = buckets.firstIndex { $0.upTo.map { value <= $0 } ?? true } ?? buckets.count - 1
        buckets[index].count += 1
    }

    /// Adds another histogram with the same buckets, each count multiplied by `factor` (a sample's extrapolation).
    mutating func add(_ other: Histogram, scaledBy factor: Double = 1) {
        for i in buckets.indices where i < other.buckets.count {
            buckets[i].count += scale(other.buckets[i].count, factor)
        }
    }

    /// The total over all buckets.
    public var total: Int { buckets.reduce(0) { $0 + $1.count } }

    /// Value sizes (bytes in memory per key).
    static func valueSizes() -> Histogram {
        Histogram(
            bounds: [64, 256, 1024, 4096, 16384, 65536, 262_144, 1_048_576, 10_485_760], label: { "≤ " + ByteText.size($0) },
            overflowLabel: "> 10.0 MB")
    }

    /// Key lengths in bytes; the bucket above 32 KB is what Upstash refuses.
    static func keySizes() -> Histogram {
        Histogram(bounds: [16, 32, 64, 128, 256, 1024, 32768], label: { "≤ " + ByteText.size($0) }, overflowLabel: "> 32.0 KB")
    }

    /// Remaining time to live: none, under a minute, an hour, a day, longer.
    static func timeToLive() -> Histogram {
        var h = Histogram(bounds: [60_000, 3_600_000, 86_400_000], label: { _ in "" }, overflowLabel: "≥ 1 day")
        h.buckets[0].label = "< 1 min"
        h.buckets[1].label = "< 1 h"
        h.buckets[2].label = "< 1 day"
        h.buckets.insert(Bucket(label: "no TTL", upTo: -1, count: 0), at: 0)
        return h
    }

    /// Counts a key by its PTTL: nil (no expiry) lands in "no TTL".
    mutating func addTTL(milliseconds: Int64?) {
        guard let ms = milliseconds else {
            buckets[0].count += 1
            return
        }
        let index = buckets.indices.dropFirst().first { buckets[$0].upTo.map { ms < Int64($0) } ?? true } ?? buckets.count - 1
        buckets[index].count += 1
    }
}

/// A sampled count extrapolated to the keyspace, rounded to a whole key.
func scale(_ n: Int, _ factor: Double) -> Int {
    factor == 1 ? n : Int((Double(n) * factor).rounded())
}
