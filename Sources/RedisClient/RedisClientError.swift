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
