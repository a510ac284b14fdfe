import Logging
import NIOConcurrencyHelpers
import RESP
import RedisClient

/// Runs the commands of one REST request against Redis: checks each against the policy,
/// rewrites Upstash-only scripts, and sends what may run in one pipelined write.
final class GatewayExecutor: Sendable {
    let redis: RedisClient
    let policy: CommandPolicy
    let scripts = ScriptRegistry()
    private let tableBox = NIOLockedValueBox<CommandTable?>(nil)

    init(redis: RedisClient, policy: CommandPolicy) {
        self.redis = redis
        self.policy = policy
    }

    /// Why a transaction was refused as a whole.
    struct Refused: Error {
        let message: [UInt8]
    }

    /// The server's command table, read once (and again after a failure).
    func table() async throws -> CommandTable {
        if let t = tableBox.withLockedValue({ $0 }) { return t }
        let t = try await CommandTable.load(from: redis)
        tableBox.withLockedValue { $0 = t }
        return t
    }

    /// Runs commands in order, not atomically: one reply each; refused ones never reach Redis.
    func pipeline(_ commands: [[[UInt8]]], readOnly: Bool) async throws -> [RESPValue] {
        let table = try await table()
        var replies = [RESPValue?](repeating: nil, count: commands.count)
        var prepared: [Prepared] = []
        var slots: [Int] = []
        for (i, args) in commands.enumerated() {
            if let refusal = policy.check(args, readOnly: readOnly, table: table) {
                replies[i] = refusal
            } else {
                prepared.append(try await prepare(args))
                slots.append(i)
            }
        }
        if !prepared.isEmpty {
            let results = try await redis.send(batch: prepared.map { RESPCommand(arguments: $0.arguments) })
            for (k, slot) in slots.enumerated() {
                replies[slot] = prepared[k].transform(results[k])
            }
        }
        return replies.map { $0! }
    }

    /// Runs commands as one MULTI/EXEC; refused as a whole when any command is refused or fails to queue.
    func transaction(_ commands: [[[UInt8]]], readOnly: Bool) async throws -> Result<[RESPValue], Refused> {
        let table = try await table()
        var prepared: [Prepared] = []
        for args in commands {
            if case .error(let text)? = policy.check(args, readOnly: readOnly, table: table) {
                return .failure(Refused(message: text))
            }
            prepared.append(try await prepare(args))
        }
        let batch = [RESPCommand("MULTI")] + prepared.map { RESPCommand(arguments: $0.arguments) } + [RESPCommand("EXEC")]
        let results = try await redis.send(batch: batch)
        for queued in results.dropFirst().dropLast() {
            if case .error(let text) = queued { return .failure(Refused(message: text)) }
        }
        switch results.last! {
        case .array(let values?) where values.count == prepared.count:
            return .success(zip(prepared, values).map { $0.transform($1) })
        case .error(let text):
            return .failure(Refused(message: text))
        default:
            return .failure(Refused(message: Array("EXECABORT Transaction discarded".utf8)))
        }
    }

    /// A command ready to send, and what to do to its reply.
    struct Prepared {
        var arguments: [[UInt8]]
        var replyDigest: [UInt8]? = nil

        func transform(_ reply: RESPValue) -> RESPValue {
            if let replyDigest, case .bulkString(_?) = reply { return .bulkString(replyDigest) }
            return reply
        }
    }

    private func prepare(_ args: [[UInt8]]) async throws -> Prepared {
        guard args.count >= 2 else { return Prepared(arguments: args) }
        let name = String(decoding: args[0], as: UTF8.self).uppercased()
        switch name {
        case "EVAL", "EVAL_RO":
            guard let entry = try await flaggedScript(args[1]) else { return Prepared(arguments: args) }
            var out = args
            out[1] = entry.stripped
            return Prepared(arguments: out)
        case "EVALSHA", "EVALSHA_RO":
            guard let entry = scripts.entry(forClientDigest: args[1]) else { return Prepared(arguments: args) }
            var out = args
            out[1] = entry.strippedDigest
            return Prepared(arguments: out)
        case "SCRIPT":
            let sub = String(decoding: args[1], as: UTF8.self).uppercased()
            if sub == "LOAD", args.count == 3, let entry = try await flaggedScript(args[2]) {
                return Prepared(arguments: [args[0], args[1], entry.stripped], replyDigest: scripts.clientDigest(of: args[2]))
            }
            if sub == "EXISTS" {
                var out = args
                for i in 2..<out.count {
                    if let e = scripts.entry(forClientDigest: out[i]) { out[i] = e.strippedDigest }
                }
                return Prepared(arguments: out)
            }
            return Prepared(arguments: args)
        default:
            return Prepared(arguments: args)
        }
    }

    /// For a script with Upstash-only flags: its stripped form, registered under the digest
    /// the client computed. Redis computes both digests (redis.sha1hex), so no crypto lives here.
    private func flaggedScript(_ script: [UInt8]) async throws -> ScriptRegistry.Entry? {
        guard let stripped = ScriptRegistry.strip(script) else { return nil }
        if let digest = scripts.clientDigest(of: script), let entry = scripts.entry(forClientDigest: digest) {
            return entry
        }
        let sha = "return redis.sha1hex(ARGV[1])"
        let digests = try await redis.send(batch: [RESPCommand("EVAL", sha, "0", script), RESPCommand("EVAL", sha, "0", stripped)])
        guard let clientDigest = digests[0].bytes, let strippedDigest = digests[1].bytes, !digests[0].isError else {
            throw RedisClientError(.protocolError, endpoint: redis.displayName, detail: "could not digest a script: \(digests[0])")
        }
        let entry = ScriptRegistry.Entry(stripped: stripped, strippedDigest: strippedDigest)
        scripts.register(original: script, clientDigest: clientDigest, entry: entry)
        return entry
    }
}
