import RESP

/// The writes of one key: a plain command, or operations of the write script (in order).
struct KeyWrite: Sendable {
    /// The source key (for the summary).
    var source: [UInt8]
    var direct: RESPCommand?
    var ops: [WriteOp] = []
}

/// Turns what was read into the fewest billed commands that write it, each under the request budget.
///
/// A UTF-8 string is one `SET … PXAT` in the pipeline. Everything else is one operation of the
/// batch's write script (a RESTORE, a collection, a document, a stream), or, when it does not fit
/// one request, chunks appended to a temporary key that is moved into place at the end, with any
/// element bigger than a request assembled in a piece key first.
struct WritePlanner: Sendable {
    /// The most bytes one script call's arguments may take in a request body.
    let budget: Int
    /// True for a REST target, where a UTF-8 value travels as a JSON string (control characters
    /// and quotes escaped) and a binary one in the path form's raw body.
    let rest: Bool
    /// `--on-conflict skip`: existing keys are left alone.
    let skip: Bool

    /// The bytes an argument takes in a request body, for deciding what fits. Up to 64 KB an
    /// upper bound serves (in JSON a control character takes 6 bytes) and saves a pass over every
    /// value; the exact size decides near the budget.
    func cost(_ bytes: [UInt8]) -> Int {
        guard rest else { return bytes.count + 16 }
        if bytes.count <= 65_536 { return bytes.count * 6 + 16 }
        return (ScriptEscape.isPlain(bytes) ? ScriptEscape.jsonLength(bytes) : bytes.count) + 16
    }

    /// What a whole operation may take, leaving room for the call's keys and headers.
    var opBudget: Int { max(1024, budget - 4096) }

    /// The temporary key a big key is built under, and the piece keys of its oversized elements.
    static func temporaryKey(_ key: [UInt8]) -> [UInt8] { Array("upshift:tmp:".utf8) + key }
    static func pieceKey(_ key: [UInt8], _ slot: Int) -> [UInt8] { Array("upshift:piece:\(slot):".utf8) + key }

    /// The writes of a key read whole; nil when a DUMP payload is too big for one request (read it as struct).
    func plan(source: [UInt8], key: [UInt8], value: KeyValue, expireAt: Int64) -> KeyWrite? {
        var w = KeyWrite(source: source)
        switch value {
        case .string(let v):
            let fits = cost(key) + cost(v) <= opBudget
            if fits && (!rest || (ScriptEscape.isPlain(key) && ScriptEscape.isPlain(v))) {
                var args: [any RESPArgumentConvertible] = [key, v]
                if expireAt > 0 { args += ["PXAT", expireAt] }
                if skip { args.append("NX") }
                w.direct = RESPCommand("SET", arguments: args)
            } else if fits {
                w.ops = [.simple([SimpleWrite(kind: .set, key: key, value: .bytes(v), expireAt: expireAt)], skip: skip)]
            } else {
                var chunks = chunkWriter(key, .string)
                w.ops = chunks.ops(.string(v)) + chunks.finish(final: key, expireAt: expireAt, skip: skip, stream: nil)
            }
        case .dump(let payload):
            guard cost(key) + cost(payload) <= opBudget else { return nil }
            w.ops = [.simple([SimpleWrite(kind: .restore, key: key, value: .bytes(payload), expireAt: expireAt)], skip: skip)]
        case .collection(let type, let items):
            if cost(key) + items.reduce(0, { $0 + cost($1) }) <= opBudget {
                w.ops = [.collection(key: key, type: type, items: items.map(WriteArg.bytes), expireAt: expireAt, skip: skip)]
            } else {
                var chunks = chunkWriter(key, ChunkType(rawValue: type.rawValue)!)
                w.ops = chunks.ops(.elements(items)) + chunks.finish(final: key, expireAt: expireAt, skip: skip, stream: nil)
            }
        case .json(let doc):
            if cost(key) + cost(doc) <= opBudget {
                w.ops = [.json(key: key, document: .bytes(doc), expireAt: expireAt, skip: skip)]
            } else {
                let piece = Self.pieceKey(key, 0)
                w.ops =
                    pieces(doc, into: piece) + [
                        .json(key: key, document: .piece(piece), expireAt: expireAt, skip: skip), .delete([piece]),
                    ]
            }
        case .stream(let entries, var meta):
            meta.bump = meta.needsBump(lastWritten: entries.last?.id)
            let entryCost = entries.reduce(0) { $0 + cost($1.id) + 4 + $1.fields.reduce(0) { $0 + argCost($1) } }
            if cost(key) + entryCost + metaCost(meta) <= opBudget {
                w.ops = [.stream(key: key, entries: entries, meta: meta, expireAt: expireAt, skip: skip)]
            } else {
                var chunks = chunkWriter(key, .stream)
                w.ops = chunks.ops(.entries(entries)) + chunks.finish(final: key, expireAt: expireAt, skip: skip, stream: meta)
            }
        }
        return w
    }

    func chunkWriter(_ key: [UInt8], _ type: ChunkType) -> ChunkWriter {
        ChunkWriter(planner: self, key: key, type: type)
    }

    /// The `P` operations that assemble `bytes` in `piece`, each under the budget.
    func pieces(_ bytes: [UInt8], into piece: [UInt8]) -> [WriteOp] {
        var ops: [WriteOp] = []
        var start = 0
        let room = opBudget - cost(piece) - 64
        while start < bytes.count {
            let n = sliceLength(bytes, from: start, room: room)
            ops.append(.piece(key: piece, bytes: Array(bytes[start..<start + n]), first: start == 0))
            start += n
        }
        return ops
    }

    /// How many bytes from `start` go in one request: `room` of them, fewer for a UTF-8 slice
    /// whose JSON escapes would make it bigger (a binary slice goes raw, in the path form).
    func sliceLength(_ bytes: [UInt8], from start: Int, room: Int) -> Int {
        var n = min(room, bytes.count - start)
        while rest && n > 1024 {
            let slice = Array(bytes[start..<start + n])
            if !ScriptEscape.isPlain(slice) || ScriptEscape.jsonLength(slice) <= room { break }
            n /= 2
        }
        return n
    }

    func argCost(_ a: WriteArg) -> Int {
        switch a {
        case .bytes(let b): return cost(b)
        case .piece(let p): return cost(p)
        }
    }

    func metaCost(_ meta: StreamMeta) -> Int {
        var n = cost(meta.lastId) + 16
        for g in meta.groups {
            n += cost(g.name) + cost(g.lastDelivered) + 32 + g.idleConsumers.reduce(0) { $0 + cost($1) }
            for c in g.claims { n += cost(c.consumer) + 48 + c.ids.reduce(0) { $0 + cost($1) } }
        }
        return n + meta.placeholders.reduce(0) { $0 + cost($1) }
    }
}

/// Writes a big key chunk by chunk into its temporary key, each operation under the budget.
struct ChunkWriter: Sendable {
    let planner: WritePlanner
    let key: [UInt8]
    let type: ChunkType
    let temp: [UInt8]
    /// True once an operation has started the temporary key.
    private(set) var started = false
    /// The last stream entry ID written (a stream's last id may need setting past it).
    private(set) var lastEntryID: [UInt8]? = nil
    private var pieceSlots = Set<Int>()

    init(planner: WritePlanner, key: [UInt8], type: ChunkType) {
        self.planner = planner
        self.key = key
        self.type = type
        self.temp = WritePlanner.temporaryKey(key)
    }

    /// The operations that append one chunk.
    mutating func ops(_ chunk: KeyChunk) -> [WriteOp] {
        var out: [WriteOp] = []
        let room = planner.opBudget - planner.cost(temp) - 64
        switch chunk {
        case .string(let bytes):
            var start = 0
            while start < bytes.count {
                let n = planner.sliceLength(bytes, from: start, room: room)
                out.append(append(items: [.bytes(Array(bytes[start..<start + n]))], entries: []))
                start += n
            }
        case .elements(let items):
            var pending: [WriteArg] = []
            var used = 0
            var i = 0
            while i < items.count {
                let unit = Array(items[i..<min(i + type.step, items.count)])
                i += type.step
                let unitCost = unit.reduce(0) { $0 + planner.cost($1) }
                if unitCost > room {
                    if !pending.isEmpty { out.append(append(items: pending, entries: [])) }
                    pending = []
                    used = 0
                    var args: [WriteArg] = []
                    for (slot, element) in unit.enumerated() { args.append(oversized(element, slot: slot, into: &out, room: room)) }
                    out.append(append(items: args, entries: []))
                    continue
                }
                if used + unitCost > room && !pending.isEmpty {
                    out.append(append(items: pending, entries: []))
                    pending = []
                    used = 0
                }
                pending += unit.map(WriteArg.bytes)
                used += unitCost
            }
            if !pending.isEmpty { out.append(append(items: pending, entries: [])) }
        case .entries(let entries):
            var pending: [StreamEntry] = []
            var used = 0
            for e in entries {
                let fieldsCost = e.fields.reduce(0) { $0 + planner.argCost($1) }
                let entryCost = planner.cost(e.id) + 4 + fieldsCost
                if entryCost > room {
                    if !pending.isEmpty { out.append(append(items: [], entries: pending)) }
                    pending = []
                    used = 0
                    var fields: [WriteArg] = []
                    for (slot, f) in e.fields.enumerated() {
                        guard case .bytes(let b) = f, planner.cost(b) > room / 2 else {
                            fields.append(f)
                            continue
                        }
                        fields.append(oversized(b, slot: slot, into: &out, room: room))
                    }
                    out.append(append(items: [], entries: [StreamEntry(id: e.id, fields: fields)]))
                    continue
                }
                if used + entryCost > room && !pending.isEmpty {
                    out.append(append(items: [], entries: pending))
                    pending = []
                    used = 0
                }
                pending.append(e)
                used += entryCost
            }
            if !pending.isEmpty { out.append(append(items: [], entries: pending)) }
            if let last = entries.last?.id { lastEntryID = last }
        }
        return out
    }

    /// The operations that move the temporary key into place (and drop the piece keys used).
    func finish(final: [UInt8], expireAt: Int64, skip: Bool, stream: StreamMeta?) -> [WriteOp] {
        var meta = stream
        if var m = meta {
            m.bump = m.needsBump(lastWritten: lastEntryID)
            meta = m
        }
        var out: [WriteOp] = [
            .finish(temp: temp, final: final, expireAt: expireAt, skip: skip, stream: meta, wroteEntries: lastEntryID != nil)
        ]
        if !pieceSlots.isEmpty { out.append(.delete(pieceSlots.sorted().map { WritePlanner.pieceKey(key, $0) })) }
        return out
    }

    /// Abandons the copy: the temporary key and pieces go (and `final` too, when the source lost the key).
    func abandon(alsoDeleting final: [UInt8]?) -> [WriteOp] {
        [.delete([temp] + pieceSlots.sorted().map { WritePlanner.pieceKey(key, $0) } + (final.map { [$0] } ?? []))]
    }

    private mutating func append(items: [WriteArg], entries: [StreamEntry]) -> WriteOp {
        defer { started = true }
        return .append(temp: temp, type: type, items: items, entries: entries, first: !started)
    }

    private mutating func oversized(_ bytes: [UInt8], slot: Int, into out: inout [WriteOp], room: Int) -> WriteArg {
        let piece = WritePlanner.pieceKey(key, slot)
        pieceSlots.insert(slot)
        out += planner.pieces(bytes, into: piece)
        return .piece(piece)
    }
}
