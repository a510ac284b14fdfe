/// Where an Upstash REST database lives: `https://host[:port][/base]`, with nothing secret in it.
public struct UpstashEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// `http` or `https`.
    public let scheme: String
    /// The host name or address (IPv6 without brackets).
    public let host: String
    /// The port given in the URL, nil for the scheme's default.
    public let port: Int?
    /// A path prefix before the REST routes, without a trailing slash (usually empty).
    public let basePath: String

    /// Parses a REST URL. User info and query strings are refused, so no secret can hide in it.
    public init(_ text: String) throws(UpstashError) {
        func bad(_ why: String) -> UpstashError {
            UpstashError(.invalidURL, host: "?", detail: why)
        }
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        var rest = Substring(text).drop(while: isSpace)
        while let last = rest.last, isSpace(last) { rest.removeLast() }
        guard let sep = rest.firstRange(of: "://") else { throw bad("expected https://host[:port], got no scheme") }
        let scheme = rest[..<sep.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else {
            throw bad("the REST URL must start with https:// (or http://), not \(scheme)://")
        }
        rest = rest[sep.upperBound...]
        if rest.contains("?") || rest.contains("#") {
            throw bad("the REST URL must not carry a query or fragment: give the token with --token")
        }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        var path = String(rest[slash...])
        while path.hasSuffix("/") { path.removeLast() }
        guard !authority.contains("@") else { throw bad("the REST URL must not carry user info: give the token with --token") }
        var host: Substring
        var portText: Substring? = nil
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw bad("unterminated [IPv6] host") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty { throw bad("junk after the [IPv6] host") }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else { throw bad("the REST URL has no host") }
        var port: Int? = nil
        if let portText {
            guard let p = Int(portText), (1...65535).contains(p) else { throw bad("invalid port '\(portText)'") }
            port = p
        }
        self.scheme = scheme
        self.host = host.lowercased()
        self.port = port
        self.basePath = path
    }

    /// `host` or `host:port`, for messages.
    public var hostAndPort: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return port.map { "\(h):\($0)" } ?? h
    }

    /// The URL of a route (`/`, `/pipeline`, `/set/k`).
    func url(_ route: String) -> String {
        "\(scheme)://\(hostAndPort)\(basePath)\(route)"
    }

    /// True for this machine (`localhost`, `127.x.x.x`, `::1`): no commands/s budget by default.
    public var isLocal: Bool {
        host == "localhost" || host.hasSuffix(".localhost") || host.hasPrefix("127.") || host == "::1"
    }

    /// The URL without secrets (there are none in it).
    public var description: String { "\(scheme)://\(hostAndPort)\(basePath)" }
}
