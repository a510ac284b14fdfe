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
            // A mistyped URL may put a token before "://": the scheme is named only when it looks like one.
            let named = !scheme.isEmpty && scheme.count <= 16 && scheme.allSatisfy { $0.isLetter || $0 == "+" }
            throw bad("the REST URL must start with https:// (or http://)" + (named ? ", not \(scheme)://" : ""))
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
        // Neither is echoed: a token whose '@' or '?' was mistyped ends up in the host or the path.
        guard authority.hasPrefix("[") || host.utf8.allSatisfy(Self.isHostByte) else { throw bad("the REST URL's host is not a host name") }
        guard path.utf8.allSatisfy({ Self.isHostByte($0) || $0 == 0x2F || $0 == 0x7E }) else {
            throw bad("the REST URL's path may hold letters, digits and - . _ ~ / only: give the token with --token")
        }
        var port: Int? = nil
        if let portText {
            guard let p = Int(portText), (1...65535).contains(p) else {
                // not echoed: `https://host:TOKEN` is a token that lost its '@', not a port
                throw bad(portText.allSatisfy(\.isNumber) ? "invalid port \(portText)" : "invalid port (not a number)")
            }
            port = p
        }
        self.scheme = scheme
        self.host = host.lowercased()
        self.port = port
        self.basePath = path
    }

    private static func isHostByte(_ b: UInt8) -> Bool {
        let lower = b | 0x20
        return b == 0x2D || b == 0x2E || b == 0x5F || (b >= 0x30 && b <= 0x39) || (lower >= 0x61 && lower <= 0x7A)
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
