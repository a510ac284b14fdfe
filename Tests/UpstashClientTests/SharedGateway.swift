import Foundation
import TestSupport
import UpstashClient

/// One `upshift gateway` (and its redis-server) shared by the integration tests of this target,
/// started on first use; each test works under its own key prefix. The processes die with the test
/// process (TestSupport's reaper).
actor SharedGateway {
    static let shared = SharedGateway()
    static let token = "gw-shared-token-5150"

    private var starting: Task<(RedisServer, GatewayProcess), any Error>?

    /// The running gateway; throws (failing the test) when `upshift gateway` is not available.
    func gateway() async throws -> GatewayProcess {
        // One start shared by every caller: the actor is re-entered while the first start awaits.
        let task =
            starting
            ?? Task {
                let redis = try await RedisServer()
                return (redis, try await offPool { try GatewayProcess(redis: redis, token: Self.token) })
            }
        starting = task
        return try await task.value.1
    }

    /// A client of the shared gateway, and a fresh key prefix.
    static func client(_ options: UpstashClientOptions = .init(), token: String = token) async throws -> (UpstashClient, String) {
        let gateway = try await shared.gateway()
        let client = try UpstashClient(url: gateway.url, token: token, options: options)
        return (client, "t\(UUID().uuidString.prefix(8)):")
    }
}
