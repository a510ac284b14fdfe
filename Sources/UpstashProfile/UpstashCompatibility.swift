/// What Upstash serves over REST, and what it refuses: the one place these facts live.
public enum UpstashCompatibility {
    /// The longest key Upstash stores, in bytes.
    public static let maxKeyBytes = 32 * 1024

    /// Why a command cannot run on Upstash over REST.
    public enum Refusal: Sendable, Hashable, CustomStringConvertible {
        case blocking
        case transactionControl
        case connectionState
        case selectNonZero
        case cluster
        case admin
        case pubsubOverREST

        public var description: String {
            switch self {
            case .blocking:
                return
                    "blocking commands are not available over REST (they work over Upstash's TLS endpoint) — poll, or use a queue service"
            case .transactionControl:
                return
                    "WATCH/UNWATCH/DISCARD and bare MULTI/EXEC are not available over REST (they work over Upstash's TLS endpoint); send the transaction to /multi-exec"
            case .connectionState: return "connection commands other than PING and ECHO are not available over REST"
            case .selectNonZero: return "Upstash has a single database 0"
            case .cluster: return "cluster commands are not available"
            case .admin: return "administrative commands are not available"
            case .pubsubOverREST:
                return
                    "subscribing over REST is only available as server-sent events (/subscribe, /psubscribe, /monitor); it works over Upstash's TLS endpoint"
            }
        }
    }

    // WAIT and WAITAOF are served (redis/commands/generic/wait.mdx, waitaof.mdx): they are not blocking pops.
    static let blocking: Set<String> = [
        "BLPOP", "BRPOP", "BRPOPLPUSH", "BLMOVE", "BLMPOP", "BZPOPMIN", "BZPOPMAX", "BZMPOP",
    ]
    static let transactionControl: Set<String> = ["WATCH", "UNWATCH", "DISCARD", "MULTI", "EXEC"]
    static let connectionState: Set<String> = ["AUTH", "HELLO", "CLIENT", "RESET", "QUIT"]
    static let cluster: Set<String> = ["CLUSTER", "ASKING", "READONLY", "READWRITE"]
    static let admin: Set<String> = [
        "OBJECT", "DEBUG", "MODULE", "SWAPDB", "MOVE", "MIGRATE", "CONFIG", "ACL", "SHUTDOWN", "SAVE", "BGSAVE",
        "BGREWRITEAOF", "REPLICAOF", "SLAVEOF", "SYNC", "PSYNC", "FAILOVER", "LATENCY", "SLOWLOG", "MONITOR", "LOLWUT",
    ]
    static let pubsub: Set<String> = ["SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE"]

    /// Why Upstash refuses this command over REST, or nil when it serves it.
    /// `arguments` is the full argv (name first); only the name and a few flags are looked at.
    public static func refusal(for arguments: [[UInt8]]) -> Refusal? {
        guard let first = arguments.first else { return nil }
        let name = String(decoding: first, as: UTF8.self).uppercased()
        if blocking.contains(name) { return .blocking }
        if name == "XREAD" || name == "XREADGROUP" {
            if arguments.dropFirst().contains(where: { String(decoding: $0, as: UTF8.self).uppercased() == "BLOCK" }) { return .blocking }
            return nil
        }
        if transactionControl.contains(name) { return .transactionControl }
        if name == "SELECT" {
            return arguments.count == 2 && arguments[1] == Array("0".utf8) ? nil : .selectNonZero
        }
        if connectionState.contains(name) { return .connectionState }
        if cluster.contains(name) { return .cluster }
        // Served since 2024-04: CONFIG GET|SET of notify-keyspace-events, the one parameter Upstash lets
        // them reach (redis/commands/server/config-get.mdx, config-set.mdx), and the ACL subcommands of acl.mdx.
        if name == "CONFIG" {
            let sub = arguments.count > 1 ? UpstashCommandSurface.upper(arguments[1]) : ""
            guard sub == "GET" || sub == "SET", arguments.count > 2 else { return .admin }
            // CONFIG GET names parameters; CONFIG SET alternates names and values.
            let step = sub == "GET" ? 1 : 2
            let served = UpstashCommandSurface.configurableParameter.uppercased()
            for i in stride(from: 2, to: arguments.count, by: step) where UpstashCommandSurface.upper(arguments[i]) != served {
                return .admin
            }
            return nil
        }
        if name == "ACL" {
            let sub = arguments.count > 1 ? UpstashCommandSurface.upper(arguments[1]) : ""
            return UpstashCommandSurface.aclSubcommands.contains(sub) ? nil : .admin
        }
        if admin.contains(name) { return .admin }
        if pubsub.contains(name) { return .pubsubOverREST }
        return nil
    }

    /// The command name, upper-cased, for messages and counts.
    public static func commandName(_ arguments: [[UInt8]]) -> String {
        arguments.first.map { String(decoding: $0, as: UTF8.self).uppercased() } ?? ""
    }
}
