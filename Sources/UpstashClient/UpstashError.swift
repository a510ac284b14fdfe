/// A failure to run commands on an Upstash REST endpoint, naming the host, never the token.
///
/// Command errors (`WRONGTYPE …`) normally come back as `.error` reply values, not as this error;
/// it is thrown when the request as a whole failed.
public struct UpstashError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, in kinds a caller can act on; new kinds may be added.
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        fileprivate let name: String
        public var description: String { name }

        /// Redis refused a command; the text is Redis's own, verbatim.
        public static let command = Kind(name: "command error")
        /// The token was missing or wrong (HTTP 401, `WRONGPASS …`).
        public static let auth = Kind(name: "authentication failed")
        /// Over a plan limit: request size, daily or monthly requests.
        public static let limit = Kind(name: "plan limit")
        /// No HTTP response: timeout, dropped connection, TLS.
        public static let transport = Kind(name: "transport")
        /// Nothing answers at the address: connection refused, or the host name does not resolve.
        public static let unreachable = Kind(name: "unreachable")
        /// HTTP 5xx after every retry.
        public static let server = Kind(name: "server error")
        /// A reply that is not what the protocol promises (malformed JSON, wrong shape).
        public static let protocolError = Kind(name: "protocol error")
        /// A command that cannot be expressed in a REST request (binary arguments in a transaction).
        public static let unencodable = Kind(name: "cannot encode")
        /// The REST URL is not usable.
        public static let invalidURL = Kind(name: "invalid URL")
        /// The caller's task was cancelled, or the client closed.
        public static let cancelled = Kind(name: "cancelled")
    }

    public let kind: Kind
    /// `host` or `host:port`.
    public let host: String
    /// The specifics, free of secrets: for command, auth and limit errors the server's text.
    public let detail: String
    /// The HTTP status, when a response arrived.
    public let status: Int?

    public init(_ kind: Kind, host: String, detail: String, status: Int? = nil) {
        self.kind = kind
        self.host = host
        self.detail = detail
        self.status = status
    }

    public var description: String {
        let line = "upstash \(host): \(kind): \(detail)" + (status.map { " (HTTP \($0))" } ?? "")
        // What a person can act on: the URL points at some other HTTP server.
        return kind == .protocolError ? line + "; \(Self.notUpstash)" : line
    }

    /// What an unreadable reply most likely means.
    public static let notUpstash =
        "this is not an Upstash REST endpoint (expected the database's REST URL, https://….upstash.io, or an `upshift gateway`)"

    /// True for failures worth another attempt: no response at all, or a 5xx.
    var isRetryable: Bool { kind == .transport || kind == .unreachable || kind == .server }
}

extension UpstashError {
    /// The error texts Upstash uses when a plan limit refuses a request.
    static let limitMarkers = ["max request size exceeded", "max daily request limit exceeded", "max requests limit exceeded"]

    /// True when `text` is one of the plan-limit refusals.
    static func isLimitText(_ text: String) -> Bool {
        let lower = text.lowercased()
        return limitMarkers.contains { lower.contains($0) }
    }
}
