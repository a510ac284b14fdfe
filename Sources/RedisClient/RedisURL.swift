/// Where a Redis server is and how to log in: parsed from `redis://[user:pass@]host:port[/db]`,
/// `rediss://…` (TLS, settings as query parameters, see `RedisTLS`) or `unix://[user:pass@]/path/to.sock[?db=N]`.
public struct RedisURL: Sendable, Hashable, CustomStringConvertible {
    /// How to reach the server.
    public enum Address: Sendable, Hashable {
        case tcp(host: String, port: Int)
        case unix(path: String)
    }

    public var address: Address
    public var username: String?
    public var password: String?
    public var database: Int
    /// How to speak TLS to the server; nil for plaintext (`redis://`, `unix://`).
    public var tls: RedisTLS?

    /// A URL from its parts.
    public init(address: Address, username: String? = nil, password: String? = nil, database: Int = 0, tls: RedisTLS? = nil) {
        self.address = address
        self.username = username
        self.password = password
        self.database = database
        self.tls = tls
    }

    /// Parses a URL; the error never repeats the password.
    public init(_ string: String) throws(RedisClientError) {
        let invalid = { (why: String) in
            RedisClientError(.invalidURL, endpoint: RedisURL.redact(string), detail: why)
        }
        guard let (schemeText, afterScheme) = splitScheme(string) else { throw invalid("expected redis://host:port") }
        let scheme = schemeText.lowercased()
        var rest = afterScheme
        var query: Substring = ""
        if let q = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: q)...]
            rest = rest[..<q]
        }
        var user: String? = nil
        var pass: String? = nil
        if let at = rest.lastIndex(of: "@") {
            let info = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = info.firstIndex(of: ":") {
                let u = String(info[..<colon])
                user = u.isEmpty ? nil : percentDecode(u)
                pass = percentDecode(String(info[info.index(after: colon)...]))
            } else if !info.isEmpty {
                // redis://secret@host is the common shorthand for a password alone
                pass = percentDecode(String(info))
            }
        }
        var db = 0
        var tls = RedisTLS()
        var tlsGiven = false
        for pair in query.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            let name = String(kv[0])
            let value = kv.count == 2 ? percentDecode(String(kv[1])) : ""
            if name == "db" {
                guard let n = Int(value), n >= 0 else { throw invalid("database must be a number") }
                db = n
            } else if RedisTLS.queryNames.contains(name) {
                guard let why = tls.apply(name: name, value: value) else {
                    tlsGiven = true
                    continue
                }
                throw invalid(why)
            }
        }
        if tlsGiven && scheme != "rediss" { throw invalid("TLS settings (?tls-…) need a rediss:// URL") }
        switch scheme {
        case "redis", "rediss":
            var hostPort = rest
            if let slash = rest.firstIndex(of: "/") {
                hostPort = rest[..<slash]
                let dbText = rest[rest.index(after: slash)...]
                if !dbText.isEmpty {
                    guard let n = Int(dbText), n >= 0 else { throw invalid("database must be a number") }
                    db = n
                }
            }
            var host = String(hostPort)
            var port = 6379
            if hostPort.hasPrefix("[") {  // [::1]:6379
                guard let close = hostPort.firstIndex(of: "]") else { throw invalid("unclosed IPv6 bracket") }
                host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
                let after = hostPort[hostPort.index(after: close)...]
                if after.hasPrefix(":") {
                    guard let p = Int(after.dropFirst()), (1...65535).contains(p) else { throw invalid("bad port") }
                    port = p
                }
            } else if let colon = hostPort.lastIndex(of: ":") {
                host = String(hostPort[..<colon])
                guard let p = Int(hostPort[hostPort.index(after: colon)...]), (1...65535).contains(p) else {
                    throw invalid("bad port")
                }
                port = p
            }
            // A host name never holds ':' (IPv6 goes in brackets) or '@': a URL whose '@' was lost is not a host.
            guard host.utf8.allSatisfy(Self.isHostByte) || hostPort.hasPrefix("[") else {
                throw invalid("bad host name (give user:password@host:port, an IPv6 address in [brackets])")
            }
            if host.isEmpty { host = "127.0.0.1" }
            self.init(
                address: .tcp(host: host, port: port), username: user, password: pass, database: db, tls: scheme == "rediss" ? tls : nil)
        case "unix", "redis+unix":
            guard rest.hasPrefix("/") else { throw invalid("expected unix:///path/to/redis.sock") }
            self.init(address: .unix(path: String(rest)), username: user, password: pass, database: db)
        default:
            throw invalid("unknown scheme '\(scheme)', expected redis://, rediss:// or unix://")
        }
    }

    /// `host:port` or the socket path: what errors name.
    public var endpoint: String {
        switch address {
        case .tcp(let host, let port): return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unix(let path): return path
        }
    }

    /// The URL with the password replaced by `***`: safe to print.
    public var description: String {
        let auth: String
        // A user name that is not a plain name is a password that lost its separator: not shown.
        let username = self.username.map { $0.utf8.allSatisfy(Self.isHostByte) ? $0 : "***" }
        switch (username, password) {
        case (let u?, _?): auth = "\(u):***@"
        case (nil, _?): auth = ":***@"
        case (let u?, nil): auth = "\(u)@"
        case (nil, nil): auth = ""
        }
        switch address {
        case .tcp:
            return "\(tls == nil ? "redis" : "rediss")://\(auth)\(endpoint)\(database == 0 ? "" : "/\(database)")"
        case .unix(let path):
            return "unix://\(auth)\(path)\(database == 0 ? "" : "?db=\(database)")"
        }
    }

    /// What is safe to print of a URL-shaped string, however malformed: anything before the last `@`
    /// is credentials whatever the separators around it (`redis//:pw@h`, `redis:pw@h`, `:pw@h`); after
    /// it, a port that is not a number (`redis://user:pw`), a database that is not a number and every
    /// query value but the TLS settings are hidden too. Only a well-formed `scheme://` is kept as given.
    public static func redact(_ string: String) -> String {
        var rest = Substring(string)
        var scheme = ""
        if let sep = rest.range(of: "://"), rest[..<sep.lowerBound].utf8.allSatisfy(isSchemeByte), !rest[..<sep.lowerBound].isEmpty {
            scheme = String(rest[..<sep.upperBound])
            rest = rest[sep.upperBound...]
        }
        var out = scheme
        if let at = rest.lastIndex(of: "@") {
            out += "***@"
            rest = rest[rest.index(after: at)...]
        }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        out += redactAuthority(rest[..<authorityEnd])
        var tail = rest[authorityEnd...]
        var query: Substring? = nil
        if let q = tail.firstIndex(of: "?") {
            query = tail[tail.index(after: q)...]
            tail = tail[..<q]
        }
        let isUnix = scheme.lowercased().hasPrefix("unix") || scheme.lowercased().hasPrefix("redis+unix")
        if !tail.isEmpty {
            // a socket path is an address; a redis:// path is a database number
            out += isUnix || tail.dropFirst().allSatisfy(\.isNumber) ? String(tail) : "/***"
        }
        if let query {
            let pairs = query.split(separator: "&", omittingEmptySubsequences: false).map { pair -> String in
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = String(kv[0])
                guard kv.count == 2, name.utf8.allSatisfy(isHostByte) else { return RedisTLS.queryNames.contains(name) ? name : "***" }
                return RedisTLS.queryNames.contains(name) || name == "db" && kv[1].allSatisfy(\.isNumber) ? String(pair) : "\(name)=***"
            }
            out += "?" + pairs.joined(separator: "&")
        }
        return out
    }

    /// `host:port` kept; anything else after a colon (a password that lost its `@`) hidden.
    private static func redactAuthority(_ authority: Substring) -> String {
        var hostEnd = authority.startIndex
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            hostEnd = authority.index(after: close)
        } else {
            hostEnd = authority.firstIndex(of: ":") ?? authority.endIndex
        }
        let host = authority[..<hostEnd]
        let after = authority[hostEnd...]
        let safeHost = host.hasPrefix("[") || host.utf8.allSatisfy(isHostByte) ? String(host) : "***"
        if after.isEmpty { return safeHost }
        let port = after.dropFirst()
        return after.hasPrefix(":") && !port.isEmpty && port.allSatisfy(\.isNumber) ? safeHost + String(after) : safeHost + ":***"
    }

    static func isHostByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x2E || b == 0x5F
    }

    private static func isSchemeByte(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x2B || b == 0x2E || b == 0x2D
    }
}

/// `("redis", "host:1/0")` from `redis://host:1/0`.
func splitScheme(_ s: String) -> (Substring, Substring)? {
    guard let colon = s.firstIndex(of: ":") else { return nil }
    let after = s[s.index(after: colon)...]
    guard after.hasPrefix("//") else { return nil }
    return (s[..<colon], after.dropFirst(2))
}

func percentDecode(_ s: String) -> String {
    guard s.contains("%") else { return s }
    var out: [UInt8] = []
    var bytes = Array(s.utf8)[...]
    while let b = bytes.popFirst() {
        if b == UInt8(ascii: "%"), bytes.count >= 2,
            let v = UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16)
        {
            out.append(v)
            bytes = bytes.dropFirst(2)
        } else {
            out.append(b)
        }
    }
    return String(decoding: out, as: UTF8.self)
}
