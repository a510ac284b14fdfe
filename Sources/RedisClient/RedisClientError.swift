import RESP

/// A failure to talk to a Redis server, naming where (host:port, never a password).
public struct RedisClientError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, in kinds a caller can act on.
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        fileprivate let name: String
        public var description: String { name }

        public static let invalidURL = Kind(name: "invalid URL")
        public static let connectionRefused = Kind(name: "connection refused")
        public static let connectFailed = Kind(name: "connect failed")
        public static let timeout = Kind(name: "timeout")
        public static let authFailed = Kind(name: "authentication failed")
        public static let selectFailed = Kind(name: "SELECT failed")
        public static let protocolError = Kind(name: "protocol error")
        public static let connectionClosed = Kind(name: "connection closed")
        public static let unsupported = Kind(name: "unsupported")
        public static let tlsFailed = Kind(name: "TLS failed")
    }

    public let kind: Kind
    /// `host:port` or the socket path.
    public let endpoint: String
    /// The specifics, already free of secrets.
    public let detail: String

    public init(_ kind: Kind, endpoint: String, detail: String) {
        self.kind = kind
        self.endpoint = endpoint
        self.detail = detail
    }

    public var description: String { "redis \(endpoint): \(kind): \(detail)" }
}

extension RedisClientError {
    /// A server that wants a password the URL did not give (it answered `NOAUTH`), in words a
    /// person can act on; `role` names the server's part (`source`, `target`).
    public static func passwordRequired(endpoint: String, role: String) -> RedisClientError {
        RedisClientError(
            .authFailed, endpoint: endpoint,
            detail: "the \(role) needs a password (it answered NOAUTH): put it in the URL, redis://:PASSWORD@host:port, "
                + "or redis://USER:PASSWORD@host:port for an ACL user")
    }

    /// True for the error a server answers to a client that has not logged in (`NOAUTH …`).
    public static func isNoAuth(_ reply: RESPValue) -> Bool {
        guard case .error(let text) = reply else { return false }
        return text.starts(with: Array("NOAUTH".utf8))
    }
}
