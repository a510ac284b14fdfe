import RESP

/// What a Redis server says about one command in its `COMMAND` reply.
public struct CommandInfo: Sendable, Hashable {
    /// Lower-case name; a subcommand is `script|load`.
    public let name: String
    public let arity: Int
    public let flags: Set<String>
    public let tips: Set<String>
    let keySpecs: [KeySpec]
    let legacyKeys: (first: Int, last: Int, step: Int)
    let subcommands: [String: CommandInfo]

    /// True when the command may change data (`write`, or a script that may).
    public var mayWrite: Bool { flags.contains("write") || flags.contains("may_replicate") }

    /// True when its reply may differ between two servers holding the same data (SPOP, RANDOMKEY, TIME, SCAN…).
    public var isNondeterministic: Bool {
        tips.contains("nondeterministic_output") || tips.contains("nondeterministic_output_order")
    }

    public static func == (a: CommandInfo, b: CommandInfo) -> Bool { a.name == b.name }
    public func hash(into h: inout Hasher) { h.combine(name) }
}

/// How Redis 7 finds keys in an argv: where to start searching, then which arguments are keys.
struct KeySpec: Sendable, Hashable {
    enum Begin: Sendable, Hashable {
        case index(Int)
        case keyword([UInt8], startFrom: Int)
        case unknown
    }
    enum Find: Sendable, Hashable {
        case range(lastKey: Int, step: Int, limit: Int)
        case keyNum(keyNumIndex: Int, firstKey: Int, step: Int)
        case unknown
    }
    let begin: Begin
    let find: Find
}

/// The server's own command metadata (`COMMAND`), so nothing here keeps a hand-made table:
/// read/write flags, key positions, non-deterministic output.
public struct CommandTable: Sendable {
    private let commands: [String: CommandInfo]

    /// Reads the command metadata from a server.
    ///
    /// Not with a bare `COMMAND`: a container's subcommands put their key specs eight arrays
    /// deep, past what hiredis's reader parses (7). So: `COMMAND LIST` for every name (subcommands
    /// as `object|encoding`), then `COMMAND INFO` for all but the containers, whose entries
    /// are assembled from their subcommands'.
    public static func load(from backend: any Backend) async throws -> CommandTable {
        let unexpected = { (what: String, reply: RESPValue) in
            RedisClientError(.protocolError, endpoint: backend.displayName, detail: "unexpected \(what) reply: \(reply)")
        }
        let listReply = try await backend.send(RESPCommand("COMMAND", "LIST"))
        guard let names = listReply.array?.compactMap(\.text) else { throw unexpected("COMMAND LIST", listReply) }
        var containers = Set<String>()
        for name in names {
            if let bar = name.firstIndex(of: "|") { containers.insert(String(name[..<bar]).lowercased()) }
        }
        let wanted = names.filter { !containers.contains($0.lowercased()) }
        let infoReply = try await backend.send(RESPCommand("COMMAND", arguments: ["INFO"] + wanted))
        guard let entries = infoReply.array else { throw unexpected("COMMAND INFO", infoReply) }
        var commands: [String: CommandInfo] = [:]
        var subcommands: [String: [String: CommandInfo]] = [:]
        for entry in entries {
            guard let info = parse(entry) else { continue }
            if let bar = info.name.firstIndex(of: "|") {
                subcommands[String(info.name[..<bar]), default: [:]][info.name] = info
            } else {
                commands[info.name] = info
            }
        }
        for container in containers {
            commands[container] = CommandInfo(
                name: container, arity: -2, flags: [], tips: [], keySpecs: [], legacyKeys: (0, 0, 0),
                subcommands: subcommands[container] ?? [:])
        }
        return CommandTable(commands: commands)
    }

    /// How many commands the server described.
    public var count: Int { commands.count }

    /// The metadata of the command in `arguments` (its subcommand's when it has one), nil when unknown.
    public func info(for arguments: [[UInt8]]) -> CommandInfo? {
        guard let first = arguments.first else { return nil }
        let name = String(decoding: first, as: UTF8.self).lowercased()
        guard let info = commands[name] else { return nil }
        if !info.subcommands.isEmpty, arguments.count > 1 {
            let sub = name + "|" + String(decoding: arguments[1], as: UTF8.self).lowercased()
            return info.subcommands[sub] ?? info
        }
        return info
    }

    /// Where a command's keys sit when no argument moves them: each range as (first, last, step) in
    /// argv (0 is the command's name; a negative last counts from the end, -1 the last argument).
    public struct FixedKeyRange: Sendable, Hashable {
        public let first: Int
        public let last: Int
        public let step: Int
    }

    /// The commands (upper-case, no containers) whose keys every call finds at the same places: key
    /// specs that begin at an index and take a plain range. The others need `COMMAND GETKEYS`.
    public var fixedKeyRanges: [String: [FixedKeyRange]] {
        var out: [String: [FixedKeyRange]] = [:]
        for (name, info) in commands where info.subcommands.isEmpty && !info.flags.contains("movablekeys") && !info.keySpecs.isEmpty {
            var ranges: [FixedKeyRange] = []
            for spec in info.keySpecs {
                guard case .index(let begin) = spec.begin, case .range(let lastKey, let step, let limit) = spec.find, limit <= 1,
                    step > 0, begin > 0
                else { break }
                ranges.append(FixedKeyRange(first: begin, last: lastKey < 0 ? lastKey : begin + lastKey, step: step))
            }
            if ranges.count == info.keySpecs.count { out[name.uppercased()] = ranges }
        }
        return out
    }

    /// The keys `arguments` touches, found with the server's key specs.
    public func keys(in arguments: [[UInt8]]) -> [[UInt8]] {
        guard let info = info(for: arguments) else { return [] }
        return keys(in: arguments, info: info)
    }

    /// The same, for a caller that has the command's `info(for:)` already.
    public func keys(in arguments: [[UInt8]], info: CommandInfo) -> [[UInt8]] {
        Self.keyIndices(info, argc: arguments.count, arguments: arguments).map { arguments[$0] }
    }

    static func keyIndices(_ info: CommandInfo, argc: Int, arguments: [[UInt8]]) -> [Int] {
        var out: [Int] = []
        if info.keySpecs.isEmpty {
            let (first, last, step) = info.legacyKeys
            guard first > 0, step > 0 else { return [] }
            let end = last < 0 ? argc + last : min(last, argc - 1)
            var i = first
            while i <= end && i < argc {
                out.append(i)
                i += step
            }
            return out
        }
        for spec in info.keySpecs {
            var start: Int
            switch spec.begin {
            case .index(let i): start = i
            case .keyword(let word, let startFrom):
                let upper = word.map { ($0 >= 97 && $0 <= 122) ? $0 - 32 : $0 }
                let matches = { (i: Int) in arguments[i].map { ($0 >= 97 && $0 <= 122) ? $0 - 32 : $0 } == upper }
                var found: Int? = nil
                if startFrom >= 0 {
                    var i = startFrom
                    while i < argc {
                        if matches(i) {
                            found = i
                            break
                        }
                        i += 1
                    }
                } else {
                    var i = argc + startFrom
                    while i > 0 {
                        if matches(i) {
                            found = i
                            break
                        }
                        i -= 1
                    }
                }
                guard let f = found else { continue }
                start = f + 1
            case .unknown: continue
            }
            guard start < argc else { continue }
            var last: Int
            var step: Int
            switch spec.find {
            case .range(let lastKey, let s, let limit):
                step = max(1, s)
                if lastKey >= 0 {
                    last = start + lastKey
                } else if limit == 0 {
                    last = argc + lastKey
                } else {
                    last = start + ((argc - start) / limit + lastKey)
                }
            case .keyNum(let keyNumIndex, let firstKey, let s):
                step = max(1, s)
                let idx = start + keyNumIndex
                guard idx < argc, let n = Int(String(decoding: arguments[idx], as: UTF8.self)), n > 0 else { continue }
                start += firstKey
                last = start + (n - 1) * step
            case .unknown: continue
            }
            var i = start
            while i <= last && i < argc {
                out.append(i)
                i += step
            }
        }
        return out
    }

    private static func parse(_ entry: RESPValue) -> CommandInfo? {
        guard let e = entry.array, e.count >= 6, let name = e[0].text, let arity = e[1].integer,
            let flagValues = e[2].array, let first = e[3].integer, let last = e[4].integer, let step = e[5].integer
        else { return nil }
        let flags = Set(flagValues.compactMap(\.text))
        let tips = e.count > 7 ? Set((e[7].array ?? []).compactMap(\.text)) : []
        let specs = e.count > 8 ? (e[8].array ?? []).compactMap(parseKeySpec) : []
        var subs: [String: CommandInfo] = [:]
        if e.count > 9, let subEntries = e[9].array {
            for s in subEntries {
                if let info = parse(s) { subs[info.name] = info }
            }
        }
        return CommandInfo(
            name: name.lowercased(), arity: Int(arity), flags: flags, tips: tips, keySpecs: specs,
            legacyKeys: (Int(first), Int(last), Int(step)), subcommands: subs)
    }

    /// RESP2 renders each key spec as a flat [name, value, …] list.
    private static func fields(_ v: RESPValue?) -> [String: RESPValue] {
        guard let a = v?.array else { return [:] }
        var out: [String: RESPValue] = [:]
        var i = 0
        while i + 1 < a.count {
            if let k = a[i].text { out[k] = a[i + 1] }
            i += 2
        }
        return out
    }

    private static func parseKeySpec(_ v: RESPValue) -> KeySpec? {
        let spec = fields(v)
        let bs = fields(spec["begin_search"])
        let bsSpec = fields(bs["spec"])
        let begin: KeySpec.Begin
        switch bs["type"]?.text {
        case "index": begin = .index(Int(bsSpec["index"]?.integer ?? 0))
        case "keyword":
            begin = .keyword(bsSpec["keyword"]?.bytes ?? [], startFrom: Int(bsSpec["startfrom"]?.integer ?? 1))
        default: begin = .unknown
        }
        let fk = fields(spec["find_keys"])
        let fkSpec = fields(fk["spec"])
        let find: KeySpec.Find
        switch fk["type"]?.text {
        case "range":
            find = .range(
                lastKey: Int(fkSpec["lastkey"]?.integer ?? 0), step: Int(fkSpec["keystep"]?.integer ?? 1),
                limit: Int(fkSpec["limit"]?.integer ?? 0))
        case "keynum":
            find = .keyNum(
                keyNumIndex: Int(fkSpec["keynumidx"]?.integer ?? 0), firstKey: Int(fkSpec["firstkey"]?.integer ?? 1),
                step: Int(fkSpec["keystep"]?.integer ?? 1))
        default: find = .unknown
        }
        return KeySpec(begin: begin, find: find)
    }
}
