/// Keys, bytes and elements of one type (in one database, or over all of them).
public struct TypeTally: Codable, Sendable, Hashable {
    /// The type as `TYPE` names it (`string`, `hash`, a module's type name, …).
    public var type: String
    public var keys: Int
    /// Bytes in memory, by `MEMORY USAGE`.
    public var bytes: Int
    /// Elements of collections, bytes of strings.
    public var elements: Int
}

/// One of the biggest keys, by memory.
public struct BigKey: Codable, Sendable, Hashable {
    public var database: Int
    /// The key for people: UTF-8 shown as is, other bytes as `\xNN`.
    public var key: String
    /// The key's exact bytes, base64.
    public var keyBase64: String
    public var type: String
    /// Bytes in memory, by `MEMORY USAGE`.
    public var bytes: Int
    /// Elements of a collection, or bytes of a string.
    public var length: Int?
    /// Remaining time to live; nil when the key does not expire.
    public var ttlMilliseconds: Int64?
}

/// The census of one logical database.
public struct DatabaseCensus: Codable, Sendable, Hashable {
    /// The database number (`SELECT n`).
    public var index: Int
    /// Keys the server reports for it (`INFO keyspace`).
    public var keysReported: Int
    /// Keys with an expiry the server reports for it.
    public var expiresReported: Int
    /// Keys looked at.
    public var keysScanned: Int
    /// Keys reported per key looked at: 1 for a full scan.
    public var extrapolationFactor: Double
    /// Keys (extrapolated when sampled).
    public var keys: Int
    /// Bytes in memory (extrapolated when sampled).
    public var bytes: Int
    /// Per type (extrapolated when sampled).
    public var types: [TypeTally]
}

/// What a SCAN of the keyspace found: keys and bytes by type and database, distributions,
/// the biggest keys. Counts are extrapolated when the census is a sample.
public struct Census: Codable, Sendable, Hashable {
    /// True when only a sample of keys was read.
    public var sampled: Bool
    /// The requested sample size, when sampling.
    public var sampleSize: Int?
    /// Keys actually looked at.
    public var keysScanned: Int
    /// Keys in the keyspace (extrapolated when sampled).
    public var keys: Int
    /// Bytes in memory over all keys (extrapolated when sampled).
    public var bytes: Int
    /// Keys in the keyspace per key looked at: 1 for a full scan.
    public var extrapolationFactor: Double
    public var databases: [DatabaseCensus]
    /// Per type over all databases (extrapolated when sampled).
    public var types: [TypeTally]
    /// Bytes in memory per key.
    public var valueSizes: Histogram
    /// Key length in bytes.
    public var keySizes: Histogram
    /// Remaining time to live.
    public var timeToLive: Histogram
    /// The biggest keys seen, largest first.
    public var biggestKeys: [BigKey]
    /// Keys SCAN listed that were gone when looked at: expired-but-present keys reclaimed by the
    /// look itself, or deleted meanwhile.
    public var vanishedKeys: Int
    /// Wall-clock time of the census.
    public var seconds: Double
}
