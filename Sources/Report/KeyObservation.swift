import Keyspace

/// What the census learned about one key from its pipelined probes.
struct KeyObservation: Sendable {
    var database: Int
    var key: [UInt8]
    var type: KeyType
    /// `MEMORY USAGE`; nil when the server would not say.
    var memoryBytes: Int?
    /// Elements of a collection or bytes of a string; nil for module types.
    var length: Int?
    /// Remaining time to live; nil when the key does not expire.
    var ttlMilliseconds: Int64?
    /// Whether the first bytes of a string value are UTF-8; nil when not checked.
    var valueIsUTF8: Bool?

    /// The size Upstash counts against its per-record limit: a string's value bytes,
    /// a collection's memory.
    var recordBytes: Int {
        if type == .string, let length { return max(length, 0) }
        return memoryBytes ?? 0
    }

    /// The bytes a copy sends for this key.
    var transferBytes: Int {
        key.count + recordBytes
    }

    /// Commands a copy needs for this key: one `SET … PXAT` for a string; for a collection one
    /// per `MigrationEstimate.elementsPerCommand` elements plus the RENAME into place.
    var migrationCommands: Int {
        switch type {
        case .string: return 1
        case .list, .set, .zset, .hash, .stream:
            let n = max(length ?? 0, 0)
            let per = MigrationEstimate.elementsPerCommand
            return (n + per - 1) / per + 1
        case .json: return 3
        case .module, .missing: return 0
        }
    }
}
