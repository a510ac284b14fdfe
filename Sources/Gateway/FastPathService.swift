import Logging
import NIOConcurrencyHelpers

/// What the event-loop fast path shares across connections.
struct FastPathService: Sendable {
    let executor: GatewayExecutor
    let connections: LoopConnections
    let configuration: GatewayConfiguration
    let syncTokens: SyncTokens
    let logger: Logger
    private let token: [UInt8]
    private let readOnlyToken: [UInt8]?

    init(executor: GatewayExecutor, configuration: GatewayConfiguration, syncTokens: SyncTokens, logger: Logger) {
        self.executor = executor
        self.connections = LoopConnections(url: configuration.redis)
        self.configuration = configuration
        self.syncTokens = syncTokens
        self.logger = logger
        self.token = Array(configuration.token.utf8)
        self.readOnlyToken = configuration.readOnlyToken.map { Array($0.utf8) }
    }

    /// Whether the token is the read-only one; nil for anything the fast path leaves to the full path
    /// (no token, a wrong one, an ACL user's).
    func access(authorization: [UInt8]?, query: ArraySlice<UInt8>?) -> Bool? {
        var presented: [UInt8]?
        if let header = authorization {
            guard header.count > 7, Self.isBearer(header) else { return nil }
            presented = Array(header.dropFirst(7))
        } else if let query {
            for pair in query.split(separator: UInt8(ascii: "&")) where pair.starts(with: Self.tokenParameter) {
                presented = RequestCommands.percentDecode(Array(pair.dropFirst(7)))
            }
        }
        guard let presented else { return nil }
        if constantTimeEqual(presented, token) { return false }
        if let readOnlyToken, constantTimeEqual(presented, readOnlyToken) { return true }
        return nil
    }

    private static let tokenParameter: [UInt8] = Array("_token=".utf8)
    private static let bearer: [UInt8] = Array("bearer ".utf8)

    private static func isBearer(_ header: [UInt8]) -> Bool {
        for (k, c) in bearer.enumerated() where (header[k] >= 65 && header[k] <= 90 ? header[k] | 0x20 : header[k]) != c { return false }
        return true
    }
}

/// The `Upstash-Sync-Token` each response carries: a counter shared by both paths.
final class SyncTokens: Sendable {
    private let counter = NIOLockedValueBox<UInt64>(0)

    func next() -> String {
        "gw-\(nextNumber())"
    }

    func nextNumber() -> UInt64 {
        counter.withLockedValue {
            $0 += 1
            return $0
        }
    }
}
