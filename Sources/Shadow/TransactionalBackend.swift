import RESP
import RedisClient

/// A backend that can run commands as one atomic transaction: MULTI…EXEC on a Redis connection,
/// `/multi-exec` on Upstash's REST API. The shadow mirrors client transactions through it.
public protocol TransactionalBackend: Backend {
    /// Runs `commands` atomically and returns what EXEC returns (an array of replies, or an error).
    func send(transaction commands: [RESPCommand]) async throws -> RESPValue
}

extension RedisClient: TransactionalBackend {
    /// MULTI, the commands and EXEC in one write on one connection, so nothing interleaves.
    public func send(transaction commands: [RESPCommand]) async throws -> RESPValue {
        let replies = try await send(batch: [RESPCommand("MULTI")] + commands + [RESPCommand("EXEC")])
        return replies.last ?? .null
    }
}
