import RedisClient
import UpstashProfile

/// How to copy: which keys, how fast, and what to do when the target already has a key.
public struct MigrationOptions: Sendable {
    /// What to do with a key that already exists on the target.
    public enum Conflict: String, Sendable, CaseIterable, Codable {
        case replace, skip, fail
    }

    /// How keys are written.
    public enum Mode: String, Sendable, CaseIterable, Codable {
        /// Type-by-type commands: works on any target.
        case `struct`
        /// DUMP on the source, RESTORE … ABSTTL on the target: needs the same RDB format.
        case dump
        /// Probe the target once and pick.
        case auto
    }

    public var match: [UInt8]?
    public var type: String?
    /// Only these keys (from `--keys-from`), instead of a SCAN.
    public var keys: [[UInt8]]?
    /// Only the keys of this shard (by hash slot), so n runs split the keyspace between them.
    public var shard: Shard?
    /// Written before every key on the target (for `--db N`: Upstash has one database).
    public var keyPrefix: [UInt8]
    public var conflict: Conflict
    public var mode: Mode
    /// Keys per pipelined batch.
    public var batch: Int
    /// Batches in flight at once.
    public var concurrency: Int
    public var dryRun: Bool
    public var plan: UpstashPlan
    /// Elements per chunk for collections too big to move in one command.
    public var chunkElements: Int
    /// Bytes per chunk (a string's slice, a collection chunk's payload).
    public var chunkBytes: Int

    public init(
        match: [UInt8]? = nil, type: String? = nil, keys: [[UInt8]]? = nil, shard: Shard? = nil, keyPrefix: [UInt8] = [],
        conflict: Conflict = .replace, mode: Mode = .auto, batch: Int = 200, concurrency: Int = 4, dryRun: Bool = false,
        plan: UpstashPlan = .payAsYouGo, chunkElements: Int = 5000, chunkBytes: Int? = nil
    ) {
        self.match = match
        self.type = type
        self.keys = keys
        self.shard = shard
        self.keyPrefix = keyPrefix
        self.conflict = conflict
        self.mode = mode
        self.batch = max(1, batch)
        self.concurrency = max(1, concurrency)
        self.dryRun = dryRun
        self.plan = plan
        self.chunkElements = max(1, chunkElements)
        self.chunkBytes = max(1024, chunkBytes ?? min(4 * 1024 * 1024, plan.maxRequestBytes / 2))
    }
}
