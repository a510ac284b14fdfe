import NIOCore
import RESP
import RedisClient
import UpstashProfile

/// WAIT and WAITAOF (served by Upstash since 2024-04, redis/commands/generic/wait.mdx, waitaof.mdx).
/// Either may block for its whole timeout, so each runs on a connection of its own, never on the
/// shared pipeline, and after the writes that precede it in the request.
enum WaitCommands {
    /// Runs `arguments` on a fresh connection. A server older than 7.2 has no WAITAOF: it is answered
    /// as `[1, <replicas that acknowledged>]`, the local write being taken as durable, as Upstash's is.
    static func run(_ arguments: [[UInt8]], on url: RedisURL, serverHasWaitAOF: Bool) async throws -> RESPValue {
        let timeoutMs = Int(String(decoding: arguments.last ?? [], as: UTF8.self)) ?? 0
        // A 0 timeout waits for ever; the read timeout must not cut a finite one short.
        let read: TimeAmount? = timeoutMs == 0 ? nil : .milliseconds(Int64(timeoutMs) + 5_000)
        let connection = try await RedisConnection.connect(
            to: url, options: RedisConnectionOptions(connectTimeout: .seconds(3), readTimeout: read))
        defer { Task { await connection.close() } }
        let isWaitAOF = UpstashCompatibility.commandName(arguments) == "WAITAOF"
        if isWaitAOF && !serverHasWaitAOF {
            guard arguments.count == 4 else {
                return .error(Array("ERR wrong number of arguments for 'waitaof' command".utf8))
            }
            let replicas = try await connection.send(RESPCommand(arguments: [Array("WAIT".utf8), arguments[2], arguments[3]]))
            if replicas.isError { return replicas }
            return .array([.integer(1), replicas])
        }
        return try await connection.send(RESPCommand(arguments: arguments))
    }
}
