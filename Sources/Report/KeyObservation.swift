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

    /// What a copy bills for this key (`CopyCost`, the migration's rule), with the plan's request size.
    func migrationCommands(chunkBytes: Int) -> Int {
        CopyCost.commands(
            type: type, length: max(length ?? 0, 0), bytes: recordBytes, hasTTL: (ttlMilliseconds ?? -1) > 0, chunkBytes: chunkBytes,
            scripted: isScripted)
    }

    /// True when the copy writes it through its batch script: anything but a string whose key and value are UTF-8.
    var isScripted: Bool { type != .string || valueIsUTF8 == false || !ByteText.isValidUTF8(key) }
}
