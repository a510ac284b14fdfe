import Keyspace
import RESP

/// A key's value as read from the source, ready to be planned into writes.
enum KeyValue: Sendable {
    case string([UInt8])
    /// A `DUMP` payload, for `RESTORE … ABSTTL` on the target.
    case dump([UInt8])
    /// Elements in the order the adding command takes them (field, value / score, member).
    case collection(CollectionType, [[UInt8]])
    case json([UInt8])
    case stream([StreamEntry], StreamMeta)

    /// Bytes read from the source.
    var byteCount: Int {
        switch self {
        case .string(let b), .dump(let b), .json(let b): return b.count
        case .collection(_, let items): return items.reduce(0) { $0 + $1.count }
        case .stream(let entries, _): return entries.reduce(0) { $0 + $1.id.count + $1.fields.reduce(0) { $0 + $1.size } }
        }
    }
}

extension WriteArg {
    var size: Int {
        if case .bytes(let b) = self { return b.count }
        return 0
    }
}

/// One slice of a big key, read from the source in order.
enum KeyChunk: Sendable {
    case string([UInt8])
    case elements([[UInt8]])
    case entries([StreamEntry])
}

/// Reads key values from the source: whole for small keys (one pipelined batch), in chunks for big ones.
struct KeyReader: Sendable {
    let source: any Backend
    let options: MigrationOptions

    /// True when the key is read in chunks rather than whole. A JSON document cannot be read in
    /// parts: it is read whole, and a big one written in pieces.
    func isBig(_ key: ProbedKey) -> Bool {
        switch key.type {
        case .string: return key.length > options.chunkBytes
        case .json: return false
        default: return key.length > options.chunkElements || key.memory > options.chunkBytes
        }
    }

    /// The values of small keys, in one pipelined read (streams need a second round trip for
    /// their groups); nil where a key vanished or changed type since the probe.
    func readWhole(_ keys: [ProbedKey], dump: Bool) async throws -> [KeyValue?] {
        var reads: [RESPCommand] = []
        var spans: [Range<Int>] = []
        for k in keys {
            let cmds = commands(k, dump: dump)
            spans.append(reads.count..<reads.count + cmds.count)
            reads += cmds
        }
        let replies = reads.isEmpty ? [] : try await source.send(batch: reads)
        var values: [KeyValue?] = []
        values.reserveCapacity(keys.count)
        for (k, span) in zip(keys, spans) {
            let r = replies[span]
            guard let first = r.first, !first.isError else {
                values.append(nil)
                continue
            }
            if dump && Self.dumps(k.type) {
                values.append(first.bytes.map(KeyValue.dump))
                continue
            }
            switch k.type {
            case .string: values.append(first.bytes.map(KeyValue.string))
            case .json: values.append(first.bytes.map(KeyValue.json))
            case .hash: values.append(first.array.flatMap { $0.isEmpty ? nil : .collection(.hash, $0.map { $0.bytes ?? [] }) })
            case .list: values.append(first.array.flatMap { $0.isEmpty ? nil : .collection(.list, $0.map { $0.bytes ?? [] }) })
            case .set: values.append(first.array.flatMap { $0.isEmpty ? nil : .collection(.set, $0.map { $0.bytes ?? [] }) })
            case .zset: values.append(first.array.flatMap { $0.isEmpty ? nil : .collection(.zset, Self.scored($0[...])) })
            case .stream:
                guard let entries = first.array.map(Self.entries), r.count == 3, !r[r.startIndex + 1].isError,
                    let meta = try await streamMeta(
                        k.key, info: r[r.startIndex + 1], groups: r[r.startIndex + 2], entryIDs: entries.map(\.id))
                else {
                    values.append(nil)
                    continue
                }
                values.append(.stream(Self.merge(entries, placeholders: meta.placeholders), meta))
            case .module, .missing: values.append(nil)
            }
        }
        return values
    }

    /// DUMP/RESTORE carries collections and streams; strings and JSON documents travel as themselves.
    static func dumps(_ type: KeyType) -> Bool {
        switch type {
        case .hash, .list, .set, .zset, .stream: return true
        default: return false
        }
    }

    private func commands(_ k: ProbedKey, dump: Bool) -> [RESPCommand] {
        let key = k.key
        if dump && Self.dumps(k.type) { return [RESPCommand("DUMP", key)] }
        switch k.type {
        case .string: return [RESPCommand("GET", key)]
        case .json: return [RESPCommand("JSON.GET", key)]
        case .hash: return [RESPCommand("HGETALL", key)]
        case .list: return [RESPCommand("LRANGE", key, 0, -1)]
        case .set: return [RESPCommand("SMEMBERS", key)]
        case .zset: return [RESPCommand("ZRANGE", key, 0, -1, "WITHSCORES")]
        case .stream:
            return [RESPCommand("XRANGE", key, "-", "+"), RESPCommand("XINFO", "STREAM", key), RESPCommand("XINFO", "GROUPS", key)]
        case .module, .missing: return []
        }
    }

    /// ZRANGE … WITHSCORES gives member, score; ZADD takes score, member. Scores stay Redis's exact text.
    static func scored(_ items: ArraySlice<RESPValue>) -> [[UInt8]] {
        var out: [[UInt8]] = []
        out.reserveCapacity(items.count)
        var i = items.startIndex
        while i + 1 < items.endIndex {
            out.append(items[i + 1].bytes ?? [])
            out.append(items[i].bytes ?? [])
            i += 2
        }
        return out
    }

    static func entries(_ reply: [RESPValue]) -> [StreamEntry] {
        reply.compactMap { e in
            guard let parts = e.array, parts.count == 2, let id = parts[0].bytes, let fields = parts[1].array else { return nil }
            return StreamEntry(id: id, fields: fields.map { .bytes($0.bytes ?? []) })
        }
    }

    /// Entries with placeholder entries (`_ _`) at the pending IDs whose entries the source deleted, in ID order.
    static func merge(_ entries: [StreamEntry], placeholders: [[UInt8]]) -> [StreamEntry] {
        guard !placeholders.isEmpty else { return entries }
        let holes = placeholders.map { StreamEntry(id: $0, fields: [.bytes(Array("_".utf8)), .bytes(Array("_".utf8))]) }
        return (entries + holes).sorted { (StreamID($0.id) ?? .zero) < (StreamID($1.id) ?? .zero) }
    }

    /// A stream's last id, groups, consumers and pending entries. `entryIDs`: the IDs of every entry
    /// (small streams), so pending IDs without an entry are found without asking; nil to ask the source.
    func streamMeta(_ key: [UInt8], info: RESPValue, groups: RESPValue, entryIDs: [[UInt8]]?) async throws -> StreamMeta? {
        guard let fields = info.array else { return nil }
        var lastId: [UInt8]? = nil
        var i = 0
        while i + 1 < fields.count {
            if fields[i].text == "last-generated-id" { lastId = fields[i + 1].bytes }
            i += 2
        }
        guard let lastId else { return nil }
        var out: [StreamMeta.Group] = []
        var pendingIDs: [[UInt8]] = []
        for g in groups.array ?? [] {
            guard let f = g.array else { continue }
            var name: [UInt8] = []
            var delivered: [UInt8] = Array("0-0".utf8)
            var entriesRead: Int64? = nil
            var pending: Int64 = 0
            var j = 0
            while j + 1 < f.count {
                switch f[j].text {
                case "name": name = f[j + 1].bytes ?? []
                case "last-delivered-id": delivered = f[j + 1].bytes ?? delivered
                case "entries-read": entriesRead = f[j + 1].isNull ? nil : f[j + 1].integer
                case "pending": pending = f[j + 1].integer ?? 0
                default: break
                }
                j += 2
            }
            let consumers = try await source.send(RESPCommand("XINFO", "CONSUMERS", key, name)).array ?? []
            var names: [[UInt8]] = []
            for c in consumers {
                let cf = c.array ?? []
                var k = 0
                while k + 1 < cf.count {
                    if cf[k].text == "name", let n = cf[k + 1].bytes { names.append(n) }
                    k += 2
                }
            }
            let entries = pending > 0 ? try await pendingEntries(key, group: name) : []
            pendingIDs += entries.map(\.id)
            let owners = Set(entries.map(\.consumer))
            var claims: [StreamMeta.Claim] = []
            var index: [[UInt8]: Int] = [:]
            for e in entries {
                let slot = e.consumer + [0] + Array(String(e.deliveries).utf8)
                if let at = index[slot] {
                    claims[at].ids.append(e.id)
                    claims[at].idleMilliseconds = min(claims[at].idleMilliseconds, e.idle)
                } else {
                    index[slot] = claims.count
                    claims.append(.init(consumer: e.consumer, idleMilliseconds: e.idle, deliveries: e.deliveries, ids: [e.id]))
                }
            }
            out.append(
                .init(
                    name: name, lastDelivered: delivered, entriesRead: entriesRead, idleConsumers: names.filter { !owners.contains($0) },
                    claims: claims))
        }
        var placeholders: [[UInt8]] = []
        let unique = Array(Set(pendingIDs)).sorted { (StreamID($0) ?? .zero) < (StreamID($1) ?? .zero) }
        if let entryIDs {
            let present = Set(entryIDs)
            placeholders = unique.filter { !present.contains($0) }
        } else if !unique.isEmpty {
            let found = try await source.send(batch: unique.map { RESPCommand("XRANGE", key, $0, $0) })
            placeholders = zip(unique, found).filter { $0.1.array?.isEmpty ?? false }.map(\.0)
        }
        return StreamMeta(lastId: lastId, groups: out, placeholders: placeholders)
    }

    private struct Pending {
        var id: [UInt8]
        var consumer: [UInt8]
        var idle: Int64
        var deliveries: Int64
    }

    /// Every pending entry of a group, a page at a time (exclusive ranges: Redis ≥ 6.2).
    private func pendingEntries(_ key: [UInt8], group: [UInt8]) async throws -> [Pending] {
        var out: [Pending] = []
        var start: [UInt8] = Array("-".utf8)
        let page = 10_000
        while true {
            let rows = try await source.send(RESPCommand("XPENDING", key, group, start, "+", page)).array ?? []
            for r in rows {
                guard let a = r.array, a.count == 4, let id = a[0].bytes, let owner = a[1].bytes else { continue }
                out.append(Pending(id: id, consumer: owner, idle: a[2].integer ?? 0, deliveries: a[3].integer ?? 1))
            }
            guard rows.count == page, let last = out.last?.id else { break }
            start = Array("(".utf8) + last
        }
        return out
    }

    /// Reads a big key chunk by chunk, calling `body` with each chunk in order until it returns false.
    func readChunks(_ k: ProbedKey, _ body: (KeyChunk) async throws -> Bool) async throws {
        let key = k.key
        let n = options.chunkElements
        switch k.type {
        case .string:
            var offset = 0
            while true {
                let reply = try await source.send(RESPCommand("GETRANGE", key, offset, offset + options.chunkBytes - 1))
                guard let bytes = reply.bytes, !bytes.isEmpty, !reply.isError else { break }
                guard try await body(.string(bytes)) else { return }
                offset += bytes.count
                if bytes.count < options.chunkBytes { break }
            }
        case .list, .zset:
            var start = 0
            while true {
                let command =
                    k.type == .list
                    ? RESPCommand("LRANGE", key, start, start + n - 1) : RESPCommand("ZRANGE", key, start, start + n - 1, "WITHSCORES")
                guard let items = try await source.send(command).array, !items.isEmpty else { break }
                if k.type == .list {
                    guard try await body(.elements(items.map { $0.bytes ?? [] })) else { return }
                    start += items.count
                } else {
                    guard try await body(.elements(Self.scored(items[...]))) else { return }
                    start += items.count / 2
                }
                if (k.type == .list ? items.count : items.count / 2) < n { break }
            }
        case .hash, .set:
            var cursor: [UInt8] = Array("0".utf8)
            repeat {
                let reply = try await source.send(RESPCommand(k.type == .hash ? "HSCAN" : "SSCAN", key, cursor, "COUNT", n))
                guard let parts = reply.array, parts.count == 2, let next = parts[0].bytes, let items = parts[1].array else { break }
                cursor = next
                if !items.isEmpty, !(try await body(.elements(items.map { $0.bytes ?? [] }))) { return }
            } while cursor != Array("0".utf8)
        case .stream:
            var start: [UInt8] = Array("-".utf8)
            while true {
                guard let reply = try await source.send(RESPCommand("XRANGE", key, start, "+", "COUNT", n)).array, !reply.isEmpty else {
                    break
                }
                let entries = Self.entries(reply)
                guard try await body(.entries(entries)) else { return }
                guard let last = entries.last?.id, reply.count == n else { break }
                start = Array("(".utf8) + last
            }
        case .json, .module, .missing:
            // a document is read whole (isBig never picks it): only its write is split
            break
        }
    }

    /// A big stream's metadata, read before its entries so placeholders can be merged in order.
    func bigStreamMeta(_ key: [UInt8]) async throws -> StreamMeta? {
        let info = try await source.send(batch: [RESPCommand("XINFO", "STREAM", key), RESPCommand("XINFO", "GROUPS", key)])
        guard !info[0].isError else { return nil }
        return try await streamMeta(key, info: info[0], groups: info[1], entryIDs: nil)
    }
}
