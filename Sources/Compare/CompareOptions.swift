import RedisClient

/// What to compare and how patiently.
public struct CompareOptions: Sendable {
    public var match: [UInt8]?
    /// Only the keys of this shard (by hash slot), both directions.
    public var shard: Shard?
    public var rounds: Int
    /// Seconds between rounds; later rounds re-check only the keys that differed.
    public var interval: Double
    /// Check a random sample of this many source keys instead of all.
    public var sample: Int?
    public var ttlToleranceMs: Int64
    /// Keys per batch (one script call per side).
    public var batch: Int
    /// Collections longer than this are digested in chunks of this many elements.
    public var chunkElements: Int
    /// How many differences the summary lists in full.
    public var listLimit: Int

    public init(
        match: [UInt8]? = nil, shard: Shard? = nil, rounds: Int = 3, interval: Double = 5, sample: Int? = nil, ttlToleranceMs: Int64 = 1,
        batch: Int = 200,
        chunkElements: Int = 5000, listLimit: Int = 1000
    ) {
        self.match = match
        self.shard = shard
        self.rounds = max(1, rounds)
        self.interval = max(0, interval)
        self.sample = sample
        self.ttlToleranceMs = max(0, ttlToleranceMs)
        self.batch = max(1, batch)
        self.chunkElements = max(1, chunkElements)
        self.listLimit = listLimit
    }
}

/// One key that differs, and how.
public struct Difference: Codable, Sendable, Hashable {
    /// Why two sides differ on a key.
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case missing, extra, type, value, expiry
    }
    /// The key in `migrate --keys-from` form (text, or `b64:` + base64).
    public var key: String
    public var kind: Kind
    /// A short description; values themselves are not shown.
    public var detail: String
}
