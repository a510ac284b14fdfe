import Logging
import NIOConcurrencyHelpers
import RESP
import RedisClient
import UpstashProfile

/// Runs the commands of one REST request against Redis: checks each against the policy, turns it
/// into a `GatewayStep`, and sends what may run in pipelined writes.
final class GatewayExecutor: Sendable {
    let redis: SharedRedis
    let policy: CommandPolicy
    let scripts = ScriptRegistry()
    let acl: ACLTokens
    private let tableBox = NIOLockedValueBox<CommandTable?>(nil)
    /// Where the command table comes from when not from `redis` (an ACL user may not run COMMAND).
    private let tableSource: GatewayExecutor?

    init(redis: SharedRedis, policy: CommandPolicy, tableFrom tableSource: GatewayExecutor? = nil) {
        self.redis = redis
        self.policy = policy
        self.acl = ACLTokens(redis: redis.url)
        self.tableSource = tableSource
    }

    /// Why a transaction was refused as a whole.
    struct Refused: Error {
        let message: [UInt8]
    }

    /// The server's command table, read once (and again after a failure).
    func table() async throws -> CommandTable {
        if let tableSource { return try await tableSource.table() }
        if let t = tableBox.withLockedValue({ $0 }) { return t }
        let t = try await CommandTable.load(from: redis)
        tableBox.withLockedValue { $0 = t }
        return t
    }

    /// Runs commands in order, not atomically: one reply each; refused ones never reach Redis.
    func pipeline(_ commands: [[[UInt8]]], readOnly: Bool) async throws -> [RESPValue] {
        let table = try await table()
        var replies = [RESPValue](repeating: .null, count: commands.count)
        var batch: [(slot: Int, prepared: Prepared)] = []
        func flush() async throws {
            guard !batch.isEmpty else { return }
            let results = try await redis.send(batch: batch.map { RESPCommand(arguments: $0.prepared.arguments) })
            for (k, item) in batch.enumerated() { replies[item.slot] = item.prepared.transform.apply(results[k]) }
            batch.removeAll(keepingCapacity: true)
        }
        for (i, args) in commands.enumerated() {
            switch try await step(for: args, readOnly: readOnly, table: table) {
            case .answer(let value): replies[i] = value
            case .send(let prepared): batch.append((i, prepared))
            case .dedicated(let run):
                try await flush()
                replies[i] = try await run()
            }
        }
        try await flush()
        return replies
    }

    /// Runs commands as one MULTI/EXEC; refused as a whole when any command is refused or fails to queue.
    func transaction(_ commands: [[[UInt8]]], readOnly: Bool) async throws -> Result<[RESPValue], Refused> {
        let table = try await table()
        var prepared: [Prepared] = []
        var answered: [Int: RESPValue] = [:]
        for (i, args) in commands.enumerated() {
            switch try await step(for: args, readOnly: readOnly, table: table, inTransaction: true) {
            case .answer(.error(let text)): return .failure(Refused(message: text))
            case .answer(let value): answered[i] = value
            case .send(let p): prepared.append(p)
            case .dedicated: prepared.append(Prepared(arguments: args))  // inside MULTI, WAIT does not block
            }
        }
        let batch = [RESPCommand("MULTI")] + prepared.map { RESPCommand(arguments: $0.arguments) } + [RESPCommand("EXEC")]
        let results = try await redis.send(batch: batch)
        for queued in results.dropFirst().dropLast() {
            if case .error(let text) = queued { return .failure(Refused(message: text)) }
        }
        switch results.last! {
        case .array(let values?) where values.count == prepared.count:
            var ran = zip(prepared, values).map { $0.transform.apply($1) }.makeIterator()
            return .success((0..<commands.count).map { answered[$0] ?? ran.next()! })
        case .error(let text):
            return .failure(Refused(message: text))
        default:
            return .failure(Refused(message: Array("EXECABORT Transaction discarded".utf8)))
        }
    }

    /// What to do with one command: refuse it, answer it here, or prepare it for Redis.
    func step(for args: [[UInt8]], readOnly: Bool, table: CommandTable, inTransaction: Bool = false) async throws -> GatewayStep {
        if let step = immediateStep(for: args, readOnly: readOnly, table: table) { return step }
        let name = UpstashCompatibility.commandName(args)
        let strict = policy.compatibility == .strict
        switch name {
        case "WAIT", "WAITAOF":
            return .dedicated { [redis] in try await WaitCommands.run(args, on: redis.url, serverHasWaitAOF: table.info(for: args) != nil) }
        case "ACL":
            if let answer = try await acl.answer(args) { return .answer(answer) }
            return .send(Prepared(arguments: args))
        default:
            return try await scriptStep(args, name: name, strict: strict)
        }
    }

    /// The step of a command that needs no round trip to decide (most of them), or nil for those that
    /// do: scripts (digests), ACL GENTOKEN/RESTTOKEN, WAIT. The event-loop fast path serves the former.
    func immediateStep(for args: [[UInt8]], readOnly: Bool, table: CommandTable) -> GatewayStep? {
        if let refusal = policy.check(args, readOnly: readOnly, table: table) { return .answer(refusal) }
        let name = UpstashCompatibility.commandName(args)
        let strict = policy.compatibility == .strict
        switch name {
        case "EVAL", "EVAL_RO", "EVALSHA", "EVALSHA_RO", "SCRIPT", "FUNCTION", "FCALL", "FCALL_RO", "WAIT", "WAITAOF":
            return nil
        case "ACL" where strict:
            return nil
        case "CONFIG" where strict && ConfigCommand.isGet(args):
            return .send(Prepared(arguments: args, transform: .narrowConfig))
        default:
            break
        }
        guard strict else { return .send(Prepared(arguments: args)) }
        if UpstashAnswerRewrites.isXinfoConsumers(args, name: name) { return .send(Prepared(arguments: args, transform: .emptyOnNoGroup)) }
        if let rewritten = UpstashAnswerRewrites.rewrite(args, name: name) { return .send(Prepared(arguments: rewritten)) }
        if let guarded = RecordLimit.guarded(args, info: table.info(for: args), keys: table.keys(in: args), limit: policy.maxRecordBytes) {
            return .send(Prepared(arguments: guarded))
        }
        return .send(Prepared(arguments: args))
    }

    /// The command table when it has been read, without waiting.
    var loadedTable: CommandTable? {
        if let tableSource { return tableSource.loadedTable }
        return tableBox.withLockedValue { $0 }
    }
}
