import RESP
import RedisClient
import UpstashProfile

/// What Upstash would bill for the traffic a server has seen since its stats were last reset,
/// counted from its own `INFO commandstats` (commands run by scripts included) by Upstash's rule.
public func billedByCommandStats(_ server: RedisServer) async throws -> Int {
    let client = try server.client()
    defer { Task { await client.close() } }
    guard let info = try await client.send(RESPCommand("INFO", "commandstats")).text else {
        throw TestSupportError("no INFO commandstats from \(server.url)")
    }
    return UpstashBilling.billed(commandStats: info)
}

/// Resets a server's `INFO commandstats` (CONFIG RESETSTAT is free, so it counts nothing).
public func resetCommandStats(_ server: RedisServer) async throws {
    let client = try server.client()
    defer { Task { await client.close() } }
    _ = try await client.send(RESPCommand("CONFIG", "RESETSTAT"))
}
