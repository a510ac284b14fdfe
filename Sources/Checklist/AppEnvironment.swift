import Foundation

/// The backend an app-test run talks to.
public enum AppBackend: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// The source Redis (its scratch database), with a lenient gateway in front for REST SDKs.
    case redis
    /// The target: its REST API, and the flipped proxy for apps that keep a TCP client.
    case upstash

    /// The name people read: "Redis", "Upstash".
    public var description: String { self == .redis ? "Redis" : "Upstash" }
}

/// What an app reads to find its Redis; each side of `verify --app-tests` gives these their values.
public enum AppVariable: String, Sendable, Codable, CaseIterable {
    case redisURL = "redis-url"
    case redisHost = "redis-host"
    case redisPort = "redis-port"
    case redisDB = "redis-db"
    case redisPassword = "redis-password"
    case restURL = "rest-url"
    case restToken = "rest-token"
}

/// Where one side's app finds Redis (a URL, or host, port, database and password) and the REST API.
public struct AppEndpoints: Sendable {
    public var redisURL: String
    public var redisHost: String?
    public var redisPort: Int?
    public var redisDB: Int
    public var redisPassword: String?
    /// Nil when the side has no REST API (a RESP target): REST variables are then left unset.
    public var restURL: String?
    public var restToken: String?

    /// Endpoints from their parts.
    public init(
        redisURL: String, redisHost: String?, redisPort: Int?, redisDB: Int, redisPassword: String?, restURL: String?, restToken: String?
    ) {
        self.redisURL = redisURL
        self.redisHost = redisHost
        self.redisPort = redisPort
        self.redisDB = redisDB
        self.redisPassword = redisPassword
        self.restURL = restURL
        self.restToken = restToken
    }

    /// The value `variable` takes on this side, nil when it has none.
    public func value(_ variable: AppVariable) -> String? {
        switch variable {
        case .redisURL: return redisURL
        case .redisHost: return redisHost
        case .redisPort: return redisPort.map(String.init)
        case .redisDB: return String(redisDB)
        case .redisPassword: return redisPassword
        case .restURL: return restURL
        case .restToken: return restToken
        }
    }
}

/// The environment the app's command runs in: the caller's, without anything that names Redis or
/// Upstash, plus the standard variables and the user's own names (`--env CACHE_URL=redis-url`).
public struct AppEnvironment: Sendable {
    /// The names the SDKs and most apps read, always set.
    public static let standard: [(name: String, variable: AppVariable)] = [
        ("REDIS_URL", .redisURL), ("REDIS_HOST", .redisHost), ("REDIS_PORT", .redisPort), ("REDIS_DB", .redisDB),
        ("REDIS_PASSWORD", .redisPassword), ("UPSTASH_REDIS_REST_URL", .restURL), ("UPSTASH_REDIS_REST_TOKEN", .restToken),
    ]

    /// The user's own names, in the order given.
    public var mappings: [(name: String, variable: AppVariable)]

    /// The standard names plus `mappings`.
    public init(mappings: [(name: String, variable: AppVariable)] = []) {
        self.mappings = mappings
    }

    /// Parses `--env` values, `NAME=ROLE` (`CACHE_URL=redis-url`, `KV_REST_API_TOKEN=rest-token`).
    public init(parsing texts: [String]) throws(ChecklistError) {
        var mappings: [(name: String, variable: AppVariable)] = []
        let roles = AppVariable.allCases.map(\.rawValue).joined(separator: ", ")
        for text in texts {
            let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, Self.isName(parts[0]) else {
                throw ChecklistError("--env takes NAME=ROLE, e.g. CACHE_URL=redis-url (roles: \(roles)); got '\(text)'")
            }
            guard let variable = AppVariable(rawValue: parts[1]) else {
                throw ChecklistError("--env \(parts[0])=\(parts[1]): unknown role; one of \(roles)")
            }
            mappings.append((parts[0], variable))
        }
        self.init(mappings: mappings)
    }

    /// The variables for one side: `parent` without its Redis and Upstash settings (so nothing
    /// leaks from the caller's shell into a run), then every standard and mapped name that has a value.
    public func variables(for endpoints: AppEndpoints, inheriting parent: [String: String]) -> [String: String] {
        let all = Self.standard + mappings
        let named = Set(all.map(\.name))
        var out = parent.filter { name, _ in
            let upper = name.uppercased()
            return !upper.contains("REDIS") && !upper.contains("UPSTASH") && !named.contains(name)
        }
        for (name, variable) in all {
            if let value = endpoints.value(variable) { out[name] = value }
        }
        return out
    }

    /// A shell variable name: a letter or `_`, then letters, digits and `_`.
    private static func isName(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        func letter(_ b: UInt8) -> Bool { (65...90).contains(b) || (97...122).contains(b) || b == 95 }
        guard let first = bytes.first, letter(first) else { return false }
        return bytes.allSatisfy { letter($0) || (48...57).contains($0) }
    }
}

/// The Redis URLs the app is given, written from the user's own text so its encoding and TLS
/// settings (`?tls-ca=…`) travel unchanged.
public enum AppRedisURL {
    /// `text` pointing at database `database`: `redis://h:1/3` (the path, any `db=` setting dropped),
    /// `unix:///s.sock?db=3`.
    public static func withDatabase(_ text: String, _ database: Int) -> String {
        var (base, query) = split(text)
        query.removeAll { $0.hasPrefix("db=") || $0 == "db" }
        if base.hasPrefix("unix:") || base.hasPrefix("redis+unix:") {
            query.insert("db=\(database)", at: 0)
        } else if let scheme = base.range(of: "://") {
            let rest = base[scheme.upperBound...]
            let hostStart = rest.lastIndex(of: "@").map { rest.index(after: $0) } ?? rest.startIndex
            let authorityEnd = rest[hostStart...].firstIndex(of: "/") ?? rest.endIndex
            base = String(base[..<authorityEnd]) + "/\(database)"
        }
        return query.isEmpty ? base : base + "?" + query.joined(separator: "&")
    }

    /// `text` with `settings` added as query parameters (`?tls-ca=/ca.pem`), their values percent-encoded.
    public static func adding(_ settings: [(String, String)], to text: String) -> String {
        guard !settings.isEmpty else { return text }
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+?#")
        let query = settings.map { "\($0)=\($1.addingPercentEncoding(withAllowedCharacters: allowed) ?? $1)" }
        return text + (text.contains("?") ? "&" : "?") + query.joined(separator: "&")
    }

    /// The `user:password` part of `text`, as written (still percent-encoded), or nil.
    public static func userInfo(_ text: String) -> String? {
        let (base, _) = split(text)
        guard let scheme = base.range(of: "://") else { return nil }
        let rest = base[scheme.upperBound...]
        guard let at = rest.lastIndex(of: "@") else { return nil }
        let info = rest[..<at]
        return info.isEmpty ? nil : String(info)
    }

    private static func split(_ text: String) -> (String, [String]) {
        guard let q = text.firstIndex(of: "?") else { return (text, []) }
        return (String(text[..<q]), text[text.index(after: q)...].split(separator: "&").map(String.init))
    }
}
