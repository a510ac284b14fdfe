import Keyspace
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

/// A key written by one command: a string's SET, or a RESTORE of a DUMP payload.
struct SimpleWrite: Sendable {
    enum Kind: String, Sendable {
        /// SET key value [PXAT t] [NX]; without NX a batch's are one MSET and a PEXPIREAT per expiring key
        case set = "s"
        /// RESTORE key t payload ABSTTL [REPLACE]
        case restore = "r"
    }
    var kind: Kind
    var key: [UInt8]
    /// Always whole: a value too big for one request is copied in chunks, never by an `M` operation.
    var value: [UInt8]
    var expireAt: Int64
}

/// One operation of the write script (`WriteScript`): the unit of a key's write on the target.
enum WriteOp: Sendable {
    /// `M`: keys written by one command each, all of one kind, many in one operation (the packer
    /// merges them); the script answers one `1`/`0` (written / left alone) per key.
    case simple([SimpleWrite], skip: Bool)
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
        case .simple: return "M"
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
        case .simple(let items, _): out = items.map(\.key)
        case .piece(let key, _, _): out = [key]
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
        case .simple(let items, let skip):
            return SimpleBatch.calls(
                kind: items.first?.kind ?? .set, skip: skip, count: items.count, expiring: items.filter { $0.expireAt > 0 }.count)
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

    /// How a big key of `type` is built; nil for the types that are never chunked.
    init?(_ type: KeyType) {
        switch type {
        case .string: self = .string
        case .hash: self = .hash
        case .list: self = .list
        case .set: self = .set
        case .zset: self = .zset
        case .stream: self = .stream
        case .json, .module, .missing: return nil
        }
    }

    /// How a collection too big for one operation is built.
    init(_ type: CollectionType) {
        switch type {
        case .hash: self = .hash
        case .list: self = .list
        case .set: self = .set
        case .zset: self = .zset
        }
    }
}

extension WriteOp {
    /// Appends its arguments, in the script's order, to a call's argument blob.
    func arguments(into out: inout ScriptArguments) {
        let pxat = { (t: Int64) -> String in t > 0 ? String(t) : "0" }
        let mode = { (skip: Bool) -> String in skip ? "s" : "r" }
        func put(_ a: WriteArg) {
            switch a {
            case .bytes(let b): out.append(b)
            case .piece(let name): out.appendPiece(name)
            }
        }
        func put(_ entries: [StreamEntry]) {
            for e in entries {
                out.append(e.id)
                out.append(String(e.fields.count))
                for f in e.fields { put(f) }
            }
        }
        func put(_ meta: StreamMeta) {
            out.append(meta.lastId)
            out.append(meta.bump ? "1" : "0")
            out.append(String(meta.groups.count))
            for g in meta.groups {
                out.append(g.name)
                out.append(g.lastDelivered)
                out.append(g.entriesRead.map(String.init) ?? "")
                out.append(String(g.idleConsumers.count))
                for c in g.idleConsumers { out.append(c) }
                out.append(String(g.claims.count))
                for c in g.claims {
                    out.append(c.consumer)
                    out.append(String(c.idleMilliseconds))
                    out.append(String(c.deliveries))
                    out.append(String(c.ids.count))
                    for id in c.ids { out.append(id) }
                }
            }
            out.append(String(meta.placeholders.count))
            for id in meta.placeholders { out.append(id) }
        }
        switch self {
        case .simple:
            preconditionFailure("an M operation's items index its call's KEYS: ScriptCallPacker writes it as a SimpleBatch")
        case .collection(let key, let type, let items, let expireAt, let skip):
            out.append(key)
            out.append(type.rawValue)
            out.append(pxat(expireAt))
            out.append(mode(skip))
            out.append(String(items.count))
            for i in items { put(i) }
        case .json(let key, let document, let expireAt, let skip):
            out.append(key)
            out.append(pxat(expireAt))
            out.append(mode(skip))
            put(document)
        case .stream(let key, let entries, let meta, let expireAt, let skip):
            out.append(key)
            out.append(pxat(expireAt))
            out.append(mode(skip))
            out.append(String(entries.count))
            put(entries)
            put(meta)
        case .append(let temp, let type, let items, let entries, let first):
            out.append(temp)
            out.append(type.rawValue)
            out.append(first ? "1" : "0")
            out.append(String(type == .stream ? entries.count : items.count))
            if type == .stream { put(entries) } else { for i in items { put(i) } }
        case .piece(let key, let bytes, let first):
            out.append(key)
            out.append(first ? "1" : "0")
            out.append(bytes)
        case .finish(let temp, let final, let expireAt, let skip, let stream, _):
            out.append(temp)
            out.append(final)
            out.append(pxat(expireAt))
            out.append(mode(skip))
            out.append(stream == nil ? "0" : "1")
            if let stream { put(stream) }
        case .delete(let keys):
            out.append(String(keys.count))
            for k in keys { out.append(k) }
        }
    }
}

/// The one argument of a script call being built: every operation's arguments as netstrings
/// (`5:hello`; a piece key's name as `p5:name`), one blob, binary-safe whatever it holds.
///
/// Over REST a blob that is UTF-8 travels in the JSON pipeline with its neighbours; one that is
/// not goes as the raw body of the path form (`POST /EVALSHA/sha/n/keys…`), the binary-safe way
/// Upstash documents, so binary values are neither escaped nor decoded: the script only slices
/// the blob (`string.find`, `string.sub`: C). Escaping them for a JSON body instead was measured
/// first: its Lua unescape cost 20 µs a 300-byte value on redis-server 7.0, slicing 2–3 µs.
struct ScriptArguments {
    private(set) var blob: [UInt8] = []
    /// True while every argument is valid UTF-8 (the blob can go in a JSON body).
    private(set) var isPlain = true
    /// The blob's size as a JSON string: what it adds to a request body while it is plain.
    private(set) var jsonBytes = 2

    /// What the call adds to a request body: the JSON string, or the raw body of the path form.
    var requestBytes: Int { isPlain ? jsonBytes : blob.count }

    mutating func append(_ bytes: [UInt8]) {
        add(header: Array(String(bytes.count).utf8), bytes)
    }

    mutating func append(_ text: String) { append(Array(text.utf8)) }

    mutating func appendPiece(_ name: [UInt8]) {
        add(header: [UInt8(ascii: "p")] + Array(String(name.count).utf8), name)
    }

    /// Appends bytes whose UTF-8 validity and JSON length (unquoted) the caller knows already.
    mutating func append(_ bytes: [UInt8], plain: Bool, jsonBytes valueJSON: Int) {
        let header = Array(String(bytes.count).utf8)
        blob += header
        blob.append(UInt8(ascii: ":"))
        blob += bytes
        jsonBytes += header.count + 1 + valueJSON
        isPlain = isPlain && plain
    }

    private mutating func add(header: [UInt8], _ value: [UInt8]) {
        blob += header
        blob.append(UInt8(ascii: ":"))
        blob += value
        jsonBytes += header.count + 1
        if isPlain {
            if ScriptEscape.isPlain(value) {
                jsonBytes += ScriptEscape.jsonLength(value) - 2
            } else {
                isPlain = false
            }
        }
    }

    /// Appends another blob's arguments after these, as they are.
    mutating func append(contentsOf other: ScriptArguments) {
        blob += other.blob
        jsonBytes += other.jsonBytes - 2
        isPlain = isPlain && other.isPlain
    }

    /// Appends another op's arguments after these, behind its header (opcode, unit, size).
    mutating func append(op opcode: String, unit: Int, _ other: ScriptArguments) {
        append(opcode)
        append(String(unit))
        append(String(other.blob.count))
        blob += other.blob
        jsonBytes += other.jsonBytes - 2
        isPlain = isPlain && other.isPlain
    }
}
