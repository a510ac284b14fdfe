import RESP

/// Reads key values from the source: whole for small keys (one pipelined batch), in chunks for big ones.
struct KeyReader: Sendable {
    let source: any Backend
    let options: MigrationOptions

    /// True when the key must be moved in chunks rather than in one command.
    func isBig(_ meta: KeyMeta) -> Bool {
        if meta.type == "string" { return meta.length > options.chunkBytes }
        return meta.length > options.chunkElements || meta.memory > options.chunkBytes
    }

    /// The commands that read a small key whole.
    func readCommands(_ meta: KeyMeta, dump: Bool) -> [RESPCommand] {
        let k = meta.key
        if dump { return [RESPCommand("DUMP", k)] }
        switch meta.type {
        case "string": return [RESPCommand("GET", k)]
        case "hash": return [RESPCommand("HGETALL", k)]
        case "list": return [RESPCommand("LRANGE", k, 0, -1)]
        case "set": return [RESPCommand("SMEMBERS", k)]
        case "zset": return [RESPCommand("ZRANGE", k, 0, -1, "WITHSCORES")]
        case "stream": return [RESPCommand("XRANGE", k, "-", "+"), RESPCommand("XINFO", "STREAM", k), RESPCommand("XINFO", "GROUPS", k)]
        default: return []
        }
    }

    /// The write payload for a small key from its read replies; nil when the key vanished meanwhile.
    func payload(_ meta: KeyMeta, replies: ArraySlice<RESPValue>, dump: Bool) -> Payload? {
        var p = Payload()
        guard let first = replies.first, !first.isError else { return nil }
        if dump {
            guard let bytes = first.bytes else { return nil }
            p.append(bytes)
            return p
        }
        switch meta.type {
        case "string":
            guard let v = first.bytes else { return nil }
            p.append(v)
        case "hash", "list", "set":
            guard let items = first.array, !items.isEmpty else { return nil }
            for i in items { p.append(i.bytes ?? []) }
        case "zset":
            guard let items = first.array, !items.isEmpty else { return nil }
            Self.appendScored(items[...], to: &p)
        case "stream":
            guard let entries = first.array else { return nil }
            let info = Array(replies.dropFirst())
            guard info.count == 2, let meta = StreamMeta(info: info[0], groups: info[1]) else { return nil }
            p.append(String(entries.count))
            Self.appendEntries(entries, to: &p)
            meta.append(to: &p)
        default:
            return nil
        }
        return p
    }

    /// ZRANGE … WITHSCORES gives member, score; ZADD takes score, member. Scores stay Redis's exact text.
    static func appendScored(_ items: ArraySlice<RESPValue>, to p: inout Payload) {
        var i = items.startIndex
        while i + 1 < items.endIndex {
            p.append(items[i + 1].bytes ?? [])
            p.append(items[i].bytes ?? [])
            i += 2
        }
    }

    static func appendEntries(_ entries: [RESPValue], to p: inout Payload) {
        for e in entries {
            guard let parts = e.array, parts.count == 2, let id = parts[0].bytes, let fields = parts[1].array else { continue }
            p.append(id)
            p.append(String(fields.count))
            for f in fields { p.append(f.bytes ?? []) }
        }
    }

    /// Reads a big key chunk by chunk, calling `write` with each chunk's payload in order.
    func readChunks(_ meta: KeyMeta, write: (Payload) async throws -> Void) async throws -> StreamMeta? {
        let k = meta.key
        switch meta.type {
        case "string":
            var offset = 0
            while true {
                let reply = try await source.send(RESPCommand("GETRANGE", k, offset, offset + options.chunkBytes - 1))
                guard let bytes = reply.bytes, !bytes.isEmpty else { break }
                var p = Payload()
                p.append(bytes)
                try await write(p)
                offset += bytes.count
                if bytes.count < options.chunkBytes { break }
            }
        case "list", "zset":
            var start = 0
            while true {
                let command =
                    meta.type == "list"
                    ? RESPCommand("LRANGE", k, start, start + options.chunkElements - 1)
                    : RESPCommand("ZRANGE", k, start, start + options.chunkElements - 1, "WITHSCORES")
                guard let items = try await source.send(command).array, !items.isEmpty else { break }
                var p = Payload()
                if meta.type == "list" {
                    for i in items { p.append(i.bytes ?? []) }
                    start += items.count
                } else {
                    Self.appendScored(items[...], to: &p)
                    start += items.count / 2
                }
                try await write(p)
                if start >= meta.length && meta.type == "zset" { break }
            }
        case "hash", "set":
            var cursor: [UInt8] = Array("0".utf8)
            repeat {
                let name = meta.type == "hash" ? "HSCAN" : "SSCAN"
                let reply = try await source.send(RESPCommand(name, k, cursor, "COUNT", options.chunkElements))
                guard let parts = reply.array, parts.count == 2, let next = parts[0].bytes, let items = parts[1].array else { break }
                cursor = next
                if !items.isEmpty {
                    var p = Payload()
                    for i in items { p.append(i.bytes ?? []) }
                    try await write(p)
                }
            } while cursor != Array("0".utf8)
        case "stream":
            var start: [UInt8] = Array("-".utf8)
            while true {
                guard let entries = try await source.send(RESPCommand("XRANGE", k, start, "+", "COUNT", options.chunkElements)).array,
                    !entries.isEmpty
                else { break }
                var p = Payload()
                p.append(String(entries.count))
                Self.appendEntries(entries, to: &p)
                try await write(p)
                guard let lastId = entries.last?.array?.first?.bytes else { break }
                start = Array("(".utf8) + lastId
            }
            let info = try await source.send(batch: [RESPCommand("XINFO", "STREAM", k), RESPCommand("XINFO", "GROUPS", k)])
            return StreamMeta(info: info[0], groups: info[1])
        default:
            break
        }
        return nil
    }
}

/// What a stream carries besides its entries: its last ID and its consumer groups.
/// Pending entries lists and consumers are not carried (consumers re-register when they read).
struct StreamMeta: Sendable {
    let lastId: [UInt8]
    let groups: [(name: [UInt8], lastDelivered: [UInt8], entriesRead: [UInt8])]

    init?(info: RESPValue, groups: RESPValue) {
        guard let fields = info.array else { return nil }
        var last: [UInt8]? = nil
        var i = 0
        while i + 1 < fields.count {
            if fields[i].text == "last-generated-id" { last = fields[i + 1].bytes }
            i += 2
        }
        guard let last else { return nil }
        self.lastId = last
        var gs: [(name: [UInt8], lastDelivered: [UInt8], entriesRead: [UInt8])] = []
        for g in groups.array ?? [] {
            guard let f = g.array else { continue }
            var name: [UInt8] = []
            var delivered: [UInt8] = Array("0-0".utf8)
            var read: [UInt8] = []
            var j = 0
            while j + 1 < f.count {
                switch f[j].text {
                case "name": name = f[j + 1].bytes ?? []
                case "last-delivered-id": delivered = f[j + 1].bytes ?? delivered
                case "entries-read": read = f[j + 1].integer.map { Array(String($0).utf8) } ?? []
                default: break
                }
                j += 2
            }
            gs.append((name, delivered, read))
        }
        self.groups = gs
    }

    func append(to p: inout Payload) {
        p.append(lastId)
        p.append(String(groups.count))
        for g in groups {
            p.append(g.name)
            p.append(g.lastDelivered)
            p.append(g.entriesRead)
        }
    }
}
