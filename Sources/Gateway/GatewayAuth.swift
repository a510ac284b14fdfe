import HTTPTypes
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import RedisClient

/// Who a request's token says it is.
enum Access: Sendable {
    /// The standard token: every command.
    case full
    /// The read-only token: what cannot write (see `ReadOnlyAccess`).
    case readOnly
    /// The token of an ACL user (`ACL GENTOKEN`): Redis's ACL rules for that user decide.
    case aclUser(GatewayExecutor)

    var isReadOnly: Bool {
        if case .readOnly = self { return true }
        return false
    }
}

/// Checks the bearer token (or `?_token=`) and finds the executor that serves it.
final class GatewayAuth: Sendable {
    private let token: [UInt8]
    private let readOnlyToken: [UInt8]?
    private let configuration: GatewayConfiguration
    private let main: GatewayExecutor
    private let logger: Logger
    /// One executor (one connection, logged in as the user) per ACL token seen; dropped when full.
    private let users = NIOLockedValueBox<[[UInt8]: GatewayExecutor]>([:])
    private static let maxUsers = 64

    init(configuration: GatewayConfiguration, main: GatewayExecutor, logger: Logger) {
        self.token = Array(configuration.token.utf8)
        self.readOnlyToken = configuration.readOnlyToken.map { Array($0.utf8) }
        self.configuration = configuration
        self.main = main
        self.logger = logger
    }

    /// The access a request has, or nil when its token is missing or wrong.
    func access(_ request: Request) -> Access? {
        guard let presented = Self.presentedToken(request) else { return nil }
        if constantTimeEqual(presented, token) { return .full }
        if let readOnlyToken, constantTimeEqual(presented, readOnlyToken) { return .readOnly }
        guard let user = ACLTokens.user(of: presented) else { return nil }
        return .aclUser(executor(user: user, token: presented))
    }

    /// Forgets an ACL user's executor, after Redis refused its login.
    func forget(_ executor: GatewayExecutor) {
        users.withLockedValue { $0 = $0.filter { $0.value !== executor } }
        Task { await executor.redis.close() }
    }

    private func executor(user: [UInt8], token: [UInt8]) -> GatewayExecutor {
        users.withLockedValue { users in
            if let known = users[token] { return known }
            if users.count >= Self.maxUsers {
                let evicted = Array(users.values)
                users.removeAll()
                Task { for e in evicted { await e.redis.close() } }
            }
            var url = configuration.redis
            url.username = String(decoding: user, as: UTF8.self)
            url.password = String(decoding: token, as: UTF8.self)
            let executor = GatewayExecutor(
                redis: SharedRedis(url: url, connections: 1, logger: logger), policy: main.policy, tableFrom: main)
            users[token] = executor
            return executor
        }
    }

    private static func presentedToken(_ request: Request) -> [UInt8]? {
        if let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") {
            return Array(header.utf8.dropFirst(7))
        }
        guard let query = request.uri.query else { return nil }
        var presented: [UInt8]? = nil
        for pair in query.utf8.split(separator: UInt8(ascii: "&")) where pair.starts(with: Array("_token=".utf8)) {
            presented = RequestCommands.percentDecode(Array(pair.dropFirst(7)))
        }
        return presented
    }
}

/// Compares secrets in time independent of where they differ.
func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    var diff = UInt8(a.count == b.count ? 0 : 1)
    let n = max(a.count, b.count)
    for i in 0..<n {
        diff |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
    }
    return diff == 0
}
