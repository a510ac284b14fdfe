/// Commands a Redis 7 server has and Upstash's documentation does not: a check that passes against a
/// strict gateway must not depend on them. Each entry names the page of Upstash's docs repository
/// (`upstash/docs`, as audited 2026-08) whose command list it was checked against.
public enum UpstashCommandSurface {
    /// One command (or one subcommand, or one argument form) Upstash does not document.
    public struct Undocumented: Sendable, Hashable, CustomStringConvertible {
        /// The command, upper case.
        public let command: String
        /// The subcommand when only it is undocumented (`FUNCTION DUMP`), upper case; nil for the whole command.
        public let subcommand: String?
        /// An argument that makes an otherwise documented form undocumented (`XGROUP CREATE … ENTRIESREAD`).
        public let argument: String?
        /// Where the absence was checked: a page or folder of `upstash/docs`.
        public let source: String

        init(_ command: String, _ subcommand: String? = nil, argument: String? = nil, source: String) {
            self.command = command
            self.subcommand = subcommand
            self.argument = argument
            self.source = source
        }

        /// `SORT`, `FUNCTION DUMP`, `XGROUP CREATE … ENTRIESREAD`.
        public var description: String {
            [command, subcommand, argument.map { "… \($0)" }].compactMap { $0 }.joined(separator: " ")
        }
    }

    private static let generic = "redis/commands/generic/ (no page for it)"
    private static let string = "redis/commands/string/ (no page for it)"
    private static let pubsub = "redis/commands/pub-sub/ (no page for it)"
    private static let streams = "redis/commands/streams/ (no page for it)"
    private static let functions = "redis/commands/functions/ (load, delete, flush, kill, list, stats only)"
    private static let server = "redis/commands/server/ (no page for it)"

    /// Every undocumented command, subcommand or argument form the gateway's strict mode refuses,
    /// besides what `UpstashCompatibility.refusal(for:)` already refuses over REST.
    public static let undocumented: [Undocumented] = [
        Undocumented("SORT", source: generic),
        Undocumented("SORT_RO", source: generic),
        Undocumented("OBJECT", source: generic),
        Undocumented("MOVE", source: generic),
        Undocumented("MIGRATE", source: generic),
        Undocumented("RESTORE-ASKING", source: generic),
        Undocumented("LCS", source: string),
        Undocumented("SUBSTR", source: string),
        Undocumented("SPUBLISH", source: pubsub),
        Undocumented("SSUBSCRIBE", source: pubsub),
        Undocumented("SUNSUBSCRIBE", source: pubsub),
        Undocumented("PUBSUB", "SHARDCHANNELS", source: "redis/commands/pub-sub/pubsub.mdx (CHANNELS, NUMSUB, NUMPAT only)"),
        Undocumented("PUBSUB", "SHARDNUMSUB", source: "redis/commands/pub-sub/pubsub.mdx (CHANNELS, NUMSUB, NUMPAT only)"),
        Undocumented("XSETID", source: streams),
        Undocumented("XGROUP", "CREATE", argument: "ENTRIESREAD", source: "redis/commands/streams/xgroup.mdx (CREATE without ENTRIESREAD)"),
        Undocumented("FUNCTION", "DUMP", source: functions),
        Undocumented("FUNCTION", "RESTORE", source: functions),
        Undocumented("PFDEBUG", source: "redis/commands/hyperloglog/ (PFADD, PFCOUNT, PFMERGE only)"),
        Undocumented("PFSELFTEST", source: "redis/commands/hyperloglog/ (PFADD, PFCOUNT, PFMERGE only)"),
        Undocumented("MEMORY", "DOCTOR", source: "redis/commands/generic/memory-usage.mdx (USAGE only)"),
        Undocumented("MEMORY", "MALLOC-STATS", source: "redis/commands/generic/memory-usage.mdx (USAGE only)"),
        Undocumented("MEMORY", "PURGE", source: "redis/commands/generic/memory-usage.mdx (USAGE only)"),
        Undocumented("MEMORY", "STATS", source: "redis/commands/generic/memory-usage.mdx (USAGE only)"),
        Undocumented("SCRIPT", "DEBUG", source: "redis/commands/scripting/ (EXISTS, FLUSH, KILL, LOAD only)"),
        Undocumented("ACL", "DRYRUN", source: "redis/commands/server/acl.mdx (its syntax block)"),
        Undocumented("DEBUG", source: server),
        Undocumented("LASTSAVE", source: server),
        Undocumented("ROLE", source: server),
    ]

    /// The undocumented entry `arguments` (name first) falls under, or nil when Upstash documents it.
    public static func undocumented(_ arguments: [[UInt8]]) -> Undocumented? {
        guard let first = arguments.first else { return nil }
        let name = upper(first)
        let sub = arguments.count > 1 ? upper(arguments[1]) : nil
        for entry in undocumented where entry.command == name {
            guard let wanted = entry.subcommand else { return entry }
            guard wanted == sub else { continue }
            guard let argument = entry.argument else { return entry }
            if arguments.dropFirst(2).contains(where: { upper($0) == argument }) { return entry }
        }
        if let module = moduleFamily(name), module != "JSON" {
            return Undocumented(name, source: "redis/overall/compatibility.mdx (JSON is the one module served; \(module).* is not)")
        }
        return nil
    }

    /// `BF` for `BF.ADD`: the module a command belongs to, nil for a core command.
    public static func moduleFamily(_ name: String) -> String? {
        guard let dot = name.firstIndex(of: "."), dot != name.startIndex else { return nil }
        return String(name[..<dot]).uppercased()
    }

    /// The one configuration parameter Upstash lets `CONFIG GET` and `CONFIG SET` reach
    /// (redis/commands/server/config-get.mdx, config-set.mdx).
    public static let configurableParameter = "notify-keyspace-events"

    /// ACL subcommands Upstash documents (redis/commands/server/acl.mdx); GENTOKEN and RESTTOKEN are its own.
    public static let aclSubcommands: Set<String> = [
        "CAT", "DELUSER", "GENPASS", "GETUSER", "HELP", "LIST", "LOAD", "LOG", "SAVE", "SETUSER", "USERS", "WHOAMI",
        "GENTOKEN", "RESTTOKEN",
    ]

    static func upper(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.map { ($0 >= 97 && $0 <= 122) ? $0 - 32 : $0 }, as: UTF8.self)
    }
}
