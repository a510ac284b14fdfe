import RESP
import RedisClient
import UpstashProfile

/// Decides whether a command may run through the gateway, the way Upstash would decide.
struct CommandPolicy: Sendable {
    let compatibility: Compatibility
    let plan: UpstashPlan
    /// The largest stored record, in bytes: the plan's, unless overridden.
    let maxRecordBytes: Int

    init(compatibility: Compatibility, plan: UpstashPlan, maxRecordBytes: Int? = nil) {
        self.compatibility = compatibility
        self.plan = plan
        self.maxRecordBytes = maxRecordBytes ?? plan.maxRecordBytes
    }

    /// Commands that would break a connection shared by every request; refused even when lenient.
    private static let connectionBreaking: Set<UpstashCompatibility.Refusal> = [
        .blocking, .transactionControl, .connectionState, .selectNonZero, .pubsubOverREST,
    ]
    private static let hijacking: Set<String> = ["MONITOR", "SYNC", "PSYNC", "REPLCONF"]

    /// An error reply for a refused command, or nil when it may run.
    func check(_ arguments: [[UInt8]], readOnly: Bool, table: CommandTable) -> RESPValue? {
        let name = UpstashCompatibility.commandName(arguments)
        if compatibility == .strict, name == "CONFIG", let refused = ConfigCommand.refusal(arguments) { return refused }
        // CONFIG GET of any name is served: names other than notify-keyspace-events "simply return no
        // matching entries" (config-get.mdx), which the executor's narrowing gives.
        let configGet = name == "CONFIG" && ConfigCommand.isGet(arguments)
        if !configGet, let refusal = UpstashCompatibility.refusal(for: arguments) {
            if compatibility == .strict || Self.connectionBreaking.contains(refusal) {
                return Self.notAvailable(name, because: "\(refusal)")
            }
        }
        if Self.hijacking.contains(name) {
            return Self.notAvailable(name, because: "it takes over the connection")
        }
        if compatibility == .strict, let entry = UpstashCommandSurface.undocumented(arguments) {
            return Self.notAvailable(
                entry.description, because: "Upstash does not document it; checked against upstash/docs \(entry.source)")
        }
        if readOnly, let why = ReadOnlyAccess.refusal(arguments, name: name, info: table.info(for: arguments)) {
            return .error(Array("NOPERM this token is read-only and cannot run '\(name)': \(why)".utf8))
        }
        if compatibility == .strict {
            for key in table.keys(in: arguments) where key.count > UpstashCompatibility.maxKeyBytes {
                return .error(
                    Array("ERR max key size exceeded. Limit: \(UpstashCompatibility.maxKeyBytes) bytes, Actual: \(key.count) bytes".utf8))
            }
            for a in arguments.dropFirst() where a.count > maxRecordBytes {
                return .error(RecordLimit.exceeded)
            }
        }
        return nil
    }

    /// The gateway's refusal text: clients and the checklist runner match on "not available".
    static func notAvailable(_ what: String, because why: String) -> RESPValue {
        .error(Array("ERR Command is not available: '\(what)' (\(why))".utf8))
    }
}

/// What Upstash's read-only token may run: read commands only, never a script that can write, and
/// not the expensive reads SCAN and KEYS (redis/features/restapi.mdx, "Read Only" token).
enum ReadOnlyAccess {
    private static let refusedReads: Set<String> = ["SCAN", "KEYS"]
    /// Commands without the `readonly` flag that cannot change data either.
    private static let harmless: Set<String> = [
        "PING", "ECHO", "TIME", "SCRIPT EXISTS", "SCRIPT LOAD", "FUNCTION LIST", "FUNCTION STATS", "COMMAND",
        "PUBSUB CHANNELS", "PUBSUB NUMSUB", "PUBSUB NUMPAT", "ACL WHOAMI", "ACL CAT", "ACL GENPASS",
    ]

    /// Why the read-only token may not run this, or nil when it may.
    static func refusal(_ arguments: [[UInt8]], name: String, info: CommandInfo?) -> String? {
        if refusedReads.contains(name) { return "SCAN and KEYS need the standard token" }
        let full =
            arguments.count > 1 && info?.name.contains("|") == true ? "\(name) \(UpstashCompatibility.commandName([arguments[1]]))" : name
        if harmless.contains(full) || harmless.contains(name) { return nil }
        guard let info else { return nil }  // unknown to the server: it answers so itself
        // EVAL_RO, EVALSHA_RO and FCALL_RO carry `readonly`: Redis refuses a write from inside them.
        if info.flags.contains("readonly") && !info.mayWrite { return nil }
        return "it can change data"
    }
}
