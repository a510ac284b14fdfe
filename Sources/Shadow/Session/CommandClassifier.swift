import RESP
import RedisClient
import UpstashProfile

/// Derives `CommandTraits` from the server's own `COMMAND` metadata plus the Upstash profile.
/// One per client session, so its cache needs no lock.
final class CommandClassifier {
    /// The primary's command metadata.
    let table: CommandTable
    private var cache: [[UInt8]: CommandTraits] = [:]

    init(table: CommandTable) {
        self.table = table
    }

    private var fast: [NameKey: CommandTraits] = [:]

    /// The traits of a command from its name's bytes, without building its argv; nil for a container
    /// (SCRIPT, CLIENT, OBJECT…), whose traits depend on its subcommand: ask `traits(for:)`.
    func traits(name: UnsafeRawBufferPointer) -> CommandTraits? {
        guard let key = NameKey(name) else { return nil }
        if let hit = fast[key] { return hit }
        let argv = [Array(name)]
        let info = table.info(for: argv)
        // Containers are the entries without flags of their own.
        if let info, info.flags.isEmpty { return nil }
        let t = make(argv, info: info)
        if fast.count < 4096 { fast[key] = t }
        return t
    }

    /// The traits of the command in `argv` (argv is never empty).
    func traits(for argv: [[UInt8]]) -> CommandTraits {
        var key = lowercased(argv[0])
        if let hit = cache[key] { return hit }
        // Containers (SCRIPT, CLIENT, OBJECT…) have per-subcommand metadata.
        if let info = table.info(for: [argv[0]]), info.flags.isEmpty, argv.count > 1 {
            key += [UInt8(ascii: "|")] + lowercased(argv[1])
            if let hit = cache[key] { return hit }
            let t = make(argv, info: table.info(for: [argv[0], argv[1]]))
            if cache.count < 4096 { cache[key] = t }
            return t
        }
        let t = make(argv, info: table.info(for: [argv[0]]))
        if cache.count < 4096 { cache[key] = t }
        return t
    }

    /// The keys the command touches, by the server's key specs.
    func keys(in argv: [[UInt8]]) -> [[UInt8]] {
        keyIndices(in: argv).map { argv[$0] }
    }

    private struct Shape: Hashable {
        var name: NameKey
        var count: Int
    }
    private var shapes: [Shape: [Int]] = [:]

    /// Which arguments of `argv` are keys. Most commands keep their keys at places that depend only
    /// on the argument count (GET, SET … EX, MSET): those places are learnt once per name and count,
    /// so a mirrored write does not walk the key specs again.
    func keyIndices(in argv: [[UInt8]]) -> [Int] {
        guard argv.count > 1, let name = argv[0].withUnsafeBytes({ NameKey($0) }) else { return [] }
        let shape = Shape(name: name, count: argv.count)
        if let hit = shapes[shape] { return hit }
        let real = DatabaseMapping.keyIndices(argv, table: table)
        // With every argument replaced by a marker of its place, the table finds the same places
        // only when no keyword or key count decides them.
        var probe = argv
        for i in 1..<argv.count { probe[i] = Self.marker(i) }
        let found = table.keys(in: probe).compactMap(Self.place)
        if !real.isEmpty, found == real, shapes.count < 4096 { shapes[shape] = real }
        return real
    }

    private static func marker(_ i: Int) -> [UInt8] { [0, 0xFF] + Array(String(i).utf8) }

    private static func place(_ b: [UInt8]) -> Int? {
        guard b.count > 2, b[0] == 0, b[1] == 0xFF else { return nil }
        return Int(String(decoding: b[2...], as: UTF8.self))
    }

    private func make(_ argv: [[UInt8]], info: CommandInfo?) -> CommandTraits {
        var t = CommandTraits()
        let name = UpstashCompatibility.commandName(argv)
        t.name = info == nil ? "UNKNOWN" : name
        t.effect = MirrorEffect.Rule(name: name)
        if let info {
            t.mayWrite = info.mayWrite
            t.orderInsensitive = info.tips.contains("nondeterministic_output_order")
            t.nondeterministic = info.tips.contains("nondeterministic_output")
        }
        switch name {
        case "SCAN", "SSCAN", "HSCAN", "ZSCAN": t.nondeterministic = true
        case "HGETALL": t.pairs = true
        case "COMMAND", "INFO", "MEMORY", "ROLE", "LASTSAVE", "TIME", "PING", "ECHO", "HELLO", "AUTH", "QUIT", "RESET", "SYNC", "PSYNC",
            "REPLCONF", "WAIT", "WAITAOF", "MONITOR":
            t.mirrorable = false
        case "PUBLISH", "SPUBLISH": t.comparable = false
        case "TTL": t.ttlUnitMs = 1000
        case "PTTL": t.ttlUnitMs = 1
        default: break
        }
        switch name {
        case "MULTI": t.special = .multi
        case "EXEC": t.special = .exec
        case "DISCARD": t.special = .discard
        case "SELECT": t.special = .select
        case "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE": t.special = .subscribe
        case "HELLO": t.special = .hello
        case "AUTH": t.special = .auth
        case "RESET": t.special = .reset
        case "SYNC", "PSYNC": t.special = .replication
        case "EVAL": t.special = .eval
        case "EVALSHA": t.special = .evalsha
        case "SCRIPT":
            let sub = argv.count > 1 ? String(decoding: argv[1], as: UTF8.self).uppercased() : ""
            if sub == "LOAD" { t.special = .scriptLoad }
            if sub == "FLUSH" { t.special = .scriptFlush }
        default: break
        }
        if t.special == .scriptLoad || t.special == .scriptFlush { t.mayWrite = true }
        t.unknown = info == nil
        switch name {
        // Redis 7.0 flags scripts neither read nor write (`may_replicate` came later): they are writes
        // unless read-only by name or by their shebang.
        case "EVAL", "EVALSHA":
            t.isScript = true
            t.mayWrite = true
            t.writeDependsOnScript = true
        case "FCALL":
            t.isScript = true
            t.mayWrite = true
        case "EVAL_RO", "EVALSHA_RO", "FCALL_RO":
            t.isScript = true
            t.mayWrite = false
        case "BLPOP", "BRPOP", "BRPOPLPUSH", "BLMOVE", "BLMPOP", "BZPOPMIN", "BZPOPMAX", "BZMPOP":
            t.blockingPop = true
            t.mayWrite = true
        default: break
        }
        if name == "SELECT" || name == "XREAD" || name == "XREADGROUP" {
            t.refusalDependsOnArguments = true
        } else if t.special != .multi && t.special != .exec {
            t.refusal = UpstashCompatibility.refusal(for: argv)
        }
        // Counted as incompatible (for the report), yet mirrored: as the pop of what it returned.
        if t.blockingPop { t.mirrorable = true }
        t.sharing = Self.sharing(name: name, info: info)
        return t
    }

    /// Flags that tie a command to its connection: `blocking` (it would hold every client behind it),
    /// `no_multi` (SYNC, SUBSCRIBE…), `allow_busy` (it must reach a server busy with a script, not
    /// wait behind the script on a shared connection: SCRIPT KILL, AUTH, MULTI…). `noscript` marks
    /// the rest of the connection commands (CLIENT *, HELLO, RESET, WATCH, MULTI/EXEC, SUBSCRIBE,
    /// MONITOR, WAIT, DEBUG…), except the scripting commands, which are not allowed in scripts for
    /// another reason and run the same on any connection.
    static let ownConnectionFlags: Set<String> = ["blocking", "no_multi", "allow_busy"]
    static let scripting: Set<String> = [
        "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro", "script|load", "script|exists", "script|flush",
        "function|load", "function|delete", "function|flush", "function|list", "function|dump", "function|restore",
    ]
    /// Connection state no flag announces: a cluster client's read-from-replica mode and redirections.
    static let connectionState: Set<String> = ["READONLY", "READWRITE", "ASKING"]

    static func sharing(name: String, info: CommandInfo?) -> CommandTraits.Sharing {
        switch name {
        case "AUTH": return .login
        case "SELECT": return .select
        case "QUIT": return .quit
        default: break
        }
        // Unknown, or a container whose subcommand the server does not list (CLIENT SETINFO on 7.0):
        // nothing says what it does to the connection.
        guard let info, !info.flags.isEmpty else { return .ownConnection }
        if connectionState.contains(name) || !info.flags.isDisjoint(with: ownConnectionFlags) { return .ownConnection }
        if info.flags.contains("noscript") && !scripting.contains(info.name) { return .ownConnection }
        return .anywhere
    }

    private func lowercased(_ bytes: [UInt8]) -> [UInt8] {
        bytes.map { ($0 >= 65 && $0 <= 90) ? $0 + 32 : $0 }
    }
}
