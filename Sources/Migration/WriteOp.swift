import RESP

/// An argument of a write: bytes, or the bytes a piece key holds (an element assembled on the
/// target because it is larger than one request).
enum WriteArg: Sendable {
    case bytes([UInt8])
    case piece([UInt8])

    /// The script reads a piece key with one GET, which Upstash bills.
    var calls: Int {
        if case .piece = self { return 1 }
        return 0
    }
}

/// A stream entry: its ID and its field/value list.
struct StreamEntry: Sendable {
    var id: [UInt8]
    var fields: [WriteArg]
}

/// What a stream carries besides its entries, in the write script's order.
struct StreamMeta: Sendable {
    /// Pending entries of one consumer with one delivery count, claimed in one XCLAIM.
    struct Claim: Sendable {
        var consumer: [UInt8]
        var idleMilliseconds: Int64
        var deliveries: Int64
        var ids: [[UInt8]]
    }

    /// A consumer group.
    struct Group: Sendable {
        var name: [UInt8]
        var lastDelivered: [UInt8]
        /// Redis 7's entries-read; nil when the source does not track it (Redis 6.2) or does not know it.
        var entriesRead: Int64?
        /// Consumers that hold no pending entry (XCLAIM creates the others).
        var idleConsumers: [[UInt8]]
        var claims: [Claim]
    }

    var lastId: [UInt8]
    var groups: [Group]
    /// Pending IDs whose entries the source deleted: written as placeholders so they can be claimed, then deleted.
    var placeholders: [[UInt8]]
    /// True when the last id is past every id written, so it is set by adding and deleting an entry at it.
    var bump = false

    /// True when the last id must be set by adding and deleting an entry at it: it is past every written id.
    func needsBump(lastWritten: [UInt8]?) -> Bool {
        guard let last = StreamID(lastId) else { return false }
        guard let written = lastWritten.flatMap(StreamID.init) else { return last > StreamID.zero }
        return last > written
    }
}

/// One operation of the write script (`WriteScript`): the unit of a key's write on the target.
enum WriteOp: Sendable {
    /// `S`: SET key value [PXAT] [NX].
    case string(key: [UInt8], value: WriteArg, expireAt: Int64, skip: Bool)
    /// `R`: RESTORE key expiry payload ABSTTL [REPLACE].
    case restore(key: [UInt8], payload: [UInt8], expireAt: Int64, skip: Bool)
    /// `C`: DEL, then the elements, then PEXPIREAT: a whole small collection.
    case collection(key: [UInt8], type: CollectionType, items: [WriteArg], expireAt: Int64, skip: Bool)
    /// `J`: DEL, JSON.SET key $ document, PEXPIREAT.
    case json(key: [UInt8], document: WriteArg, expireAt: Int64, skip: Bool)
    /// `X`: a whole small stream with its groups and pending entries.
    case stream(key: [UInt8], entries: [StreamEntry], meta: StreamMeta, expireAt: Int64, skip: Bool)
    /// `T`: one chunk of a big key appended to its temporary key (the first chunk starts it afresh).
    case append(temp: [UInt8], type: ChunkType, items: [WriteArg], entries: [StreamEntry], first: Bool)
    /// `P`: one slice of an element too big for one request, appended to its piece key.
    case piece(key: [UInt8], bytes: [UInt8], first: Bool)
    /// `F`: the temporary key moved into place with its expiry (and a stream's metadata).
    case finish(temp: [UInt8], final: [UInt8], expireAt: Int64, skip: Bool, stream: StreamMeta?, wroteEntries: Bool)
    /// `D`: DEL of keys (a copy abandoned half way, or a key gone from the source).
    case delete([[UInt8]])

    var opcode: String {
        switch self {
        case .string: return "S"
        case .restore: return "R"
        case .collection: return "C"
        case .json: return "J"
        case .stream: return "X"
        case .append: return "T"
        case .piece: return "P"
        case .finish: return "F"
        case .delete: return "D"
        }
    }

    /// The keys it touches: declared in KEYS for Upstash's key locking.
    var keys: [[UInt8]] {
        var out: [[UInt8]]
        var args: [WriteArg] = []
        switch self {
        case .string(let key, let value, _, _):
            out = [key]
            args = [value]
        case .restore(let key, _, _, _), .piece(let key, _, _): out = [key]
        case .stream(let key, let entries, _, _, _):
            out = [key]
            args = entries.flatMap(\.fields)
        case .collection(let key, _, let items, _, _):
            out = [key]
            args = items
        case .json(let key, let document, _, _):
            out = [key]
            args = [document]
        case .append(let temp, _, let items, let entries, _):
            out = [temp]
            args = items + entries.flatMap(\.fields)
        case .finish(let temp, let final, _, _, _, _): out = [temp, final]
        case .delete(let keys): out = keys
        }
        for case .piece(let p) in args where !out.contains(p) { out.append(p) }
        return out
    }

    /// How many commands the script runs for it when it writes (what Upstash bills besides the call).
    var calls: Int {
        switch self {
        case .string(_, let value, _, _): return 1 + value.calls
        case .restore: return 1
        case .collection(_, let type, let items, let expireAt, let skip):
            return (skip ? 1 : 0) + 1 + Self.slices(items.count, step: type.step) + (expireAt > 0 ? 1 : 0)
                + items.reduce(0) { $0 + $1.calls }
        case .json(_, let document, let expireAt, let skip):
            return (skip ? 1 : 0) + 2 + (expireAt > 0 ? 1 : 0) + document.calls
        case .stream(_, let entries, let meta, let expireAt, let skip):
            return (skip ? 1 : 0) + 1 + entries.count + Self.metaCalls(meta, exists: !entries.isEmpty) + (expireAt > 0 ? 1 : 0)
                + entries.reduce(0) { $0 + $1.fields.reduce(0) { $0 + $1.calls } }
        case .append(_, let type, let items, let entries, let first):
            if type == .string { return 1 + items.reduce(0) { $0 + $1.calls } }
            let adds = type == .stream ? entries.count : Self.slices(items.count, step: type.step)
            let pieces = (items + entries.flatMap(\.fields)).reduce(0) { $0 + $1.calls }
            return (first ? 2 : 0) + adds + pieces
        case .piece: return 1
        case .finish(_, _, _, let skip, let stream, let wroteEntries):
            let meta = stream.map { Self.metaCalls($0, exists: wroteEntries) } ?? 1
            return (skip ? 1 : 0) + meta + 2
        case .delete: return 1
        }
    }

    /// Commands of the script's `streamMeta` on a stream that `exists` already (entries were written).
    static func metaCalls(_ meta: StreamMeta, exists: Bool) -> Int {
        var n = 1  // EXISTS
        var bump = meta.bump
        if !exists {
            n += 2
            bump = false
        }
        for g in meta.groups {
            n += 1 + (g.entriesRead == nil ? 0 : 1) + g.idleConsumers.count
            for c in g.claims { n += slices(c.ids.count, step: 1) }
        }
        n += slices(meta.placeholders.count, step: 1)
        return n + (bump ? 2 : 0)
    }

    /// The commands the script issues for `count` elements taken `step` at a time.
    static func slices(_ count: Int, step: Int) -> Int {
        let per = WriteScript.elementsPerCall - WriteScript.elementsPerCall % step
        return (count + per - 1) / per
    }
}

/// The collection types the `C` operation writes, with the command that adds their elements.
enum CollectionType: String, Sendable {
    case hash, list, set, zset

    /// Arguments per element: field and value, score and member.
    var step: Int { self == .hash || self == .zset ? 2 : 1 }
}

/// What a temporary key is built as, chunk by chunk.
enum ChunkType: String, Sendable {
    case string, hash, list, set, zset, stream

    var step: Int { self == .hash || self == .zset ? 2 : 1 }
}

extension WriteOp {
    /// Its arguments in the script's order, each with the flag the script reads it by: `0` as
    /// sent, `1` escaped, `2` a piece key's name, `3` an escaped piece key's name. With `escape`
    /// false (a RESP target carries any bytes) nothing is escaped.
    func arguments(escape: Bool, into out: inout ScriptArguments) {
        let pxat = { (t: Int64) -> String in t > 0 ? String(t) : "0" }
        let mode = { (skip: Bool) -> String in skip ? "s" : "r" }
        func put(_ a: WriteArg) {
            switch a {
            case .bytes(let b): out.append(b, escape: escape)
            case .piece(let name): out.appendPiece(name, escape: escape)
            }
        }
        func put(_ entries: [StreamEntry]) {
            for e in entries {
                out.append(e.id, escape: escape)
                out.append(String(e.fields.count))
                for f in e.fields { put(f) }
            }
        }
        func put(_ meta: StreamMeta) {
            out.append(meta.lastId, escape: escape)
            out.append(meta.bump ? "1" : "0")
            out.append(String(meta.groups.count))
            for g in meta.groups {
                out.append(g.name, escape: escape)
                out.append(g.lastDelivered, escape: escape)
                out.append(g.entriesRead.map(String.init) ?? "")
                out.append(String(g.idleConsumers.count))
                for c in g.idleConsumers { out.append(c, escape: escape) }
                out.append(String(g.claims.count))
                for c in g.claims {
                    out.append(c.consumer, escape: escape)
                    out.append(String(c.idleMilliseconds))
                    out.append(String(c.deliveries))
                    out.append(String(c.ids.count))
                    for id in c.ids { out.append(id, escape: escape) }
                }
            }
            out.append(String(meta.placeholders.count))
            for id in meta.placeholders { out.append(id, escape: escape) }
        }
        switch self {
        case .string(let key, let value, let expireAt, let skip):
            out.append(key, escape: escape)
            put(value)
            out.append(pxat(expireAt))
            out.append(mode(skip))
        case .restore(let key, let payload, let expireAt, let skip):
            out.append(key, escape: escape)
            out.append(pxat(expireAt))
            out.append(mode(skip))
            out.append(payload, escape: escape)
        case .collection(let key, let type, let items, let expireAt, let skip):
            out.append(key, escape: escape)
            out.append(type.rawValue)
            out.append(pxat(expireAt))
            out.append(mode(skip))
            out.append(String(items.count))
            for i in items { put(i) }
        case .json(let key, let document, let expireAt, let skip):
            out.append(key, escape: escape)
            out.append(pxat(expireAt))
            out.append(mode(skip))
            put(document)
        case .stream(let key, let entries, let meta, let expireAt, let skip):
            out.append(key, escape: escape)
            out.append(pxat(expireAt))
            out.append(mode(skip))
            out.append(String(entries.count))
            put(entries)
            put(meta)
        case .append(let temp, let type, let items, let entries, let first):
            out.append(temp, escape: escape)
            out.append(type.rawValue)
            out.append(first ? "1" : "0")
            out.append(String(type == .stream ? entries.count : items.count))
            if type == .stream { put(entries) } else { for i in items { put(i) } }
        case .piece(let key, let bytes, let first):
            out.append(key, escape: escape)
            out.append(first ? "1" : "0")
            out.append(bytes, escape: escape)
        case .finish(let temp, let final, let expireAt, let skip, let stream, _):
            out.append(temp, escape: escape)
            out.append(final, escape: escape)
            out.append(pxat(expireAt))
            out.append(mode(skip))
            out.append(stream == nil ? "0" : "1")
            if let stream { put(stream) }
        case .delete(let keys):
            out.append(String(keys.count))
            for k in keys { out.append(k, escape: escape) }
        }
    }
}

/// The ARGV of one script call being built: the flags string and the arguments, with the size
/// they take in a JSON request body.
struct ScriptArguments {
    private(set) var flags: [UInt8] = []
    private(set) var values: [[UInt8]] = []
    /// The JSON size of flags and values: what the call adds to a request body.
    private(set) var jsonBytes = 0

    mutating func append(_ bytes: [UInt8], escape: Bool) {
        if escape && !ScriptEscape.isPlain(bytes) {
            add(UInt8(ascii: "1"), ScriptEscape.escape(bytes))
        } else {
            add(UInt8(ascii: "0"), bytes)
        }
    }

    mutating func append(_ text: String) { add(UInt8(ascii: "0"), Array(text.utf8)) }

    mutating func appendPiece(_ name: [UInt8], escape: Bool) {
        if escape && !ScriptEscape.isPlain(name) {
            add(UInt8(ascii: "3"), ScriptEscape.escape(name))
        } else {
            add(UInt8(ascii: "2"), name)
        }
    }

    private mutating func add(_ flag: UInt8, _ value: [UInt8]) {
        flags.append(flag)
        values.append(value)
        jsonBytes += ScriptEscape.jsonLength(value) + 2
    }

    /// Appends another call's arguments after these.
    mutating func append(contentsOf other: ScriptArguments) {
        flags += other.flags
        values += other.values
        jsonBytes += other.jsonBytes
    }

    /// Replaces the value at `index` (an operation's argument count, known once its arguments are in).
    mutating func set(_ index: Int, _ text: String) {
        jsonBytes -= ScriptEscape.jsonLength(values[index])
        values[index] = Array(text.utf8)
        jsonBytes += ScriptEscape.jsonLength(values[index])
    }
}
