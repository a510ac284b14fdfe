import RESP
import RedisClient
import UpstashProfile

/// Decides whether a command may run through the gateway, the way Upstash would decide.
struct CommandPolicy: Sendable {
    let compatibility: Compatibility
    let plan: UpstashPlan

    /// Commands that would break a connection shared by every request; refused even when lenient.
    private static let connectionBreaking: Set<UpstashCompatibility.Refusal> = [
        .blocking, .transactionControl, .connectionState, .selectNonZero, .pubsubOverREST,
    ]
    private static let hijacking: Set<String> = ["MONITOR", "SYNC", "PSYNC", "REPLCONF"]
    private static let readOnlyRefused: Set<String> = ["SCAN", "KEYS"]

    /// An error reply for a refused command, or nil when it may run.
    func check(_ arguments: [[UInt8]], readOnly: Bool, table: CommandTable) -> RESPValue? {
        let name = UpstashCompatibility.commandName(arguments)
        if let refusal = UpstashCompatibility.refusal(for: arguments) {
            if compatibility == .strict || Self.connectionBreaking.contains(refusal) {
                return .error(Array("ERR Command is not available: '\(name)' (\(refusal))".utf8))
            }
        }
        if Self.hijacking.contains(name) {
            return .error(Array("ERR Command is not available: '\(name)' (it takes over the connection)".utf8))
        }
        if readOnly {
            let info = table.info(for: arguments)
            if info?.mayWrite == true || Self.readOnlyRefused.contains(name) {
                return .error(Array("NOPERM this token is read-only and cannot run '\(name)'".utf8))
            }
        }
        if compatibility == .strict {
            for key in table.keys(in: arguments) where key.count > UpstashCompatibility.maxKeyBytes {
                return .error(Array("ERR max key size exceeded: \(key.count) bytes, the limit is \(UpstashCompatibility.maxKeyBytes)".utf8))
            }
            for a in arguments.dropFirst() where a.count > plan.maxRecordBytes {
                return .error(Array("ERR max entry size exceeded: \(a.count) bytes, the plan's limit is \(plan.maxRecordBytes)".utf8))
            }
        }
        return nil
    }
}
