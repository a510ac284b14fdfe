import RESP
import RedisClient
import UpstashProfile

/// How often the server has run one command since it started (`INFO commandstats`).
public struct CommandUsage: Codable, Sendable, Hashable {
    /// The command, upper case, with its subcommand when Redis counts them apart (`CLIENT SETNAME`).
    public var command: String
    public var calls: Int
}

/// A Lua function library loaded with `FUNCTION LOAD`.
public struct FunctionLibrary: Codable, Sendable, Hashable {
    public var name: String
    public var engine: String
    public var functions: [String]
}

/// One database in `INFO keyspace`.
public struct KeyspaceEntry: Codable, Sendable, Hashable {
    public var database: Int
    public var keys: Int
    public var expires: Int
}

/// What the source server says about itself, read before the census so the census's own
/// commands do not count as the app's.
public struct ServerFacts: Codable, Sendable, Hashable {
    public var redisVersion: String
    public var uptimeSeconds: Int
    /// `used_memory`: everything the server holds, overhead included.
    public var usedMemoryBytes: Int
    public var keyspace: [KeyspaceEntry]
    /// Commands by calls, most called first.
    public var commands: [CommandUsage]
    /// Scripts cached by `SCRIPT LOAD`/`EVAL` (`number_of_cached_scripts`).
    public var cachedScripts: Int
    public var functionLibraries: [FunctionLibrary]
    /// Modules loaded (`INFO modules`), by name.
    public var modules: [String]
    /// Bytes the server received and sent since it started (`INFO stats`).
    public var networkBytes: Int = 0
    /// Commands the server's own COMMAND table flags as writes (for a global database's bill).
    public var writeCommands: Set<String> = []

    /// Reads INFO (server, memory, keyspace, commandstats, modules, stats), FUNCTION LIST and the COMMAND table.
    public static func gather(from backend: any Backend) async throws -> ServerFacts {
        let sections = ["server", "memory", "keyspace", "commandstats", "modules", "stats"]
        var reads = sections.map { RESPCommand("INFO", $0) }
        reads.append(RESPCommand("FUNCTION", "LIST"))
        let replies = try await backend.send(batch: reads)
        if case .error(let text) = replies[0] {
            throw RedisClientError(
                .protocolError, endpoint: backend.displayName, detail: "INFO failed: \(String(decoding: text, as: UTF8.self))")
        }
        let info = replies.prefix(sections.count).map { $0.isError ? "" : ($0.text ?? "") }
        let commands = parseCommandStats(info[3])
        // Which of them write, from the server's own COMMAND table; without it writes count as reads.
        let table = try? await CommandTable.load(from: backend)
        var writes = Set<String>()
        for usage in commands {
            let argv = usage.command.split(separator: " ").map { Array($0.utf8) }
            if table?.info(for: argv)?.mayWrite == true { writes.insert(usage.command) }
        }
        let network = ["total_net_input_bytes", "total_net_output_bytes"].compactMap {
            RedisInfo.field($0, in: info[5]).flatMap { Int($0) }
        }
        return ServerFacts(
            redisVersion: RedisInfo.field("redis_version", in: info[0]) ?? "unknown",
            uptimeSeconds: RedisInfo.field("uptime_in_seconds", in: info[0]).flatMap { Int($0) } ?? 0,
            usedMemoryBytes: RedisInfo.field("used_memory", in: info[1]).flatMap { Int($0) } ?? 0,
            keyspace: parseKeyspace(info[2]),
            commands: commands,
            cachedScripts: RedisInfo.field("number_of_cached_scripts", in: info[1]).flatMap { Int($0) } ?? 0,
            functionLibraries: parseFunctionList(replies[sections.count]),
            modules: parseModules(info[4]), networkBytes: network.reduce(0, +), writeCommands: writes)
    }

    /// `db3:keys=10,expires=2,avg_ttl=0` lines, by database number.
    public static func parseKeyspace(_ text: String) -> [KeyspaceEntry] {
        var entries: [KeyspaceEntry] = []
        for line in text.split(whereSeparator: \.isNewline) where line.hasPrefix("db") {
            guard let colon = line.firstIndex(of: ":"), let db = Int(line[line.index(line.startIndex, offsetBy: 2)..<colon]) else {
                continue
            }
            let fields = keyValues(line[line.index(after: colon)...])
            entries.append(KeyspaceEntry(database: db, keys: fields["keys"] ?? 0, expires: fields["expires"] ?? 0))
        }
        return entries.sorted { $0.database < $1.database }
    }

    /// `cmdstat_client|setname:calls=3,usec=…` lines, most called first.
    public static func parseCommandStats(_ text: String) -> [CommandUsage] {
        var usage: [CommandUsage] = []
        for line in text.split(whereSeparator: \.isNewline) where line.hasPrefix("cmdstat_") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = String(line[line.index(line.startIndex, offsetBy: 8)..<colon].map { $0 == "|" ? " " : $0 }).uppercased()
            let calls = keyValues(line[line.index(after: colon)...])["calls"] ?? 0
            if calls > 0 { usage.append(CommandUsage(command: name, calls: calls)) }
        }
        return usage.sorted { $0.calls != $1.calls ? $0.calls > $1.calls : $0.command < $1.command }
    }

    /// `module:name=ReJSON,ver=…` lines.
    public static func parseModules(_ text: String) -> [String] {
        text.split(whereSeparator: \.isNewline).compactMap { line in
            guard line.hasPrefix("module:") else { return nil }
            for pair in line.dropFirst(7).split(separator: ",") where pair.hasPrefix("name=") {
                return String(pair.dropFirst(5))
            }
            return nil
        }
    }

    /// The RESP2 reply of `FUNCTION LIST` (flat name/value arrays); an error (Redis < 7) is no libraries.
    public static func parseFunctionList(_ reply: RESPValue) -> [FunctionLibrary] {
        guard let libraries = reply.array else { return [] }
        return libraries.compactMap { library in
            guard let fields = library.array.map(pairs) else { return nil }
            let functions = (fields["functions"]?.array ?? []).compactMap { f in f.array.map(pairs)?["name"]?.text }
            return FunctionLibrary(
                name: fields["library_name"]?.text ?? "?", engine: fields["engine"]?.text ?? "?", functions: functions)
        }
    }

    private static func pairs(_ flat: [RESPValue]) -> [String: RESPValue] {
        var out: [String: RESPValue] = [:]
        var i = 0
        while i + 1 < flat.count {
            if let name = flat[i].text { out[name] = flat[i + 1] }
            i += 2
        }
        return out
    }

    private static func keyValues(_ text: Substring) -> [String: Int] {
        var out: [String: Int] = [:]
        for pair in text.split(separator: ",") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            if kv.count == 2, let n = Int(kv[1]) { out[String(kv[0])] = n }
        }
        return out
    }

    /// Calls of every command since the server started.
    public var totalCalls: Int { commands.reduce(0) { $0 + $1.calls } }

    /// The calls Upstash would bill: free commands (AUTH, PING, INFO …) left out; commands run by
    /// scripts are in commandstats already, beside the EVAL that ran them.
    public var billedCalls: Int {
        commands.reduce(0) { $0 + (UpstashBilling.free.contains(String($1.command.split(separator: " ")[0])) ? 0 : $1.calls) }
    }

    /// The calls of write commands; a script's call is not one itself (the writes it runs are
    /// counted in commandstats on their own).
    public var writeCalls: Int {
        let scripts: Set<String> = ["EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO"]
        return commands.filter { writeCommands.contains($0.command) && !scripts.contains($0.command) }.reduce(0) { $0 + $1.calls }
    }
}
