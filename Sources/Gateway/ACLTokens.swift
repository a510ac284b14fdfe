import RESP
import RedisClient
import UpstashClient
import UpstashProfile

/// Upstash's ACL surface (upstash/docs redis/commands/server/acl.mdx, acl-setuser.mdx, acl-gentoken.mdx,
/// acl-resttoken.mdx) in front of a stock Redis: GENTOKEN and RESTTOKEN, Upstash's own, are answered
/// here; SETUSER keeps Upstash's restrictions; the other documented subcommands pass through.
///
/// A token here is `upshift.<base64 user>.<base64 password>`: it is both the user's Redis password
/// (`ACL SETUSER u >token`) and, presented as a bearer token, the REST credential of that user.
struct ACLTokens: Sendable {
    let redis: RedisURL
    private static let prefix = Array("upshift.".utf8)

    /// The token for `user` wrapping `password`.
    static func mint(user: [UInt8], password: [UInt8]) -> [UInt8] {
        var token = prefix
        token += Base64.encode(user)
        token.append(UInt8(ascii: "."))
        token += Base64.encode(password)
        return token
    }

    /// The user a token was minted for, or nil when it is not one of these tokens.
    static func user(of token: [UInt8]) -> [UInt8]? {
        guard token.starts(with: prefix) else { return nil }
        let parts = token.dropFirst(prefix.count).split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 2, let user = Base64.decode(Array(parts[0])), Base64.decode(Array(parts[1])) != nil, !user.isEmpty else {
            return nil
        }
        return user
    }

    /// The reply to an ACL command answered here, a refusal, or nil to send it to Redis.
    func answer(_ args: [[UInt8]]) async throws -> RESPValue? {
        guard args.count >= 2 else { return nil }
        switch UpstashCompatibility.commandName([args[1]]) {
        case "GENTOKEN":
            guard args.count == 3 || args.count == 4 else { return Self.arity("gentoken") }
            let password = args.count == 4 ? args[3] : Self.randomPassword()
            return .bulkString(Self.mint(user: args[2], password: password))
        case "RESTTOKEN":
            guard args.count == 4 else { return Self.arity("resttoken") }
            let token = Self.user(of: args[3]) == args[2] ? args[3] : Self.mint(user: args[2], password: args[3])
            return try await Self.canLogIn(user: args[2], password: token, at: redis)
                ? .bulkString(token)
                : .error(Array("ERR Wrong password or user \"\(String(decoding: args[2], as: UTF8.self))\" does not exist".utf8))
        case "SETUSER":
            return Self.setUserRefusal(args)
        default:
            return nil
        }
    }

    /// Upstash's SETUSER restrictions (acl-setuser.mdx, "Important points"); the texts are ours.
    static func setUserRefusal(_ args: [[UInt8]]) -> RESPValue? {
        guard args.count >= 3 else { return nil }
        let user = args[2]
        if user == Array("default".utf8) { return refuse("the default user cannot be modified") }
        for rule in args.dropFirst(3) {
            let text = String(decoding: rule, as: UTF8.self)
            if text.lowercased() == "nopass" { return refuse("nopass is rejected: every user needs a password made by ACL GENTOKEN") }
            if text.hasPrefix(">") && Self.user(of: Array(rule.dropFirst())) != user {
                return refuse("a password must be a token made by ACL GENTOKEN for this user, added with >token")
            }
            if text.hasPrefix("#") { return refuse("pre-hashed passwords (#hash) are rejected: use ACL GENTOKEN") }
            if (text.hasPrefix("+") || text.hasPrefix("-")) && text.contains("|") {
                return refuse("subcommand-scoped rules such as +client|list are not supported")
            }
        }
        return nil
    }

    private static func refuse(_ why: String) -> RESPValue { .error(Array("ERR \(why)".utf8)) }

    private static func arity(_ sub: String) -> RESPValue {
        .error(Array("ERR wrong number of arguments for 'acl|\(sub)' command".utf8))
    }

    private static func randomPassword() -> [UInt8] {
        var rng = SystemRandomNumberGenerator()
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for _ in 0..<32 {
            let r: UInt64 = rng.next()
            out.append(hex[Int(r % 16)])
        }
        return out
    }

    /// True when `user` can log in with `password` (a fresh connection's AUTH).
    static func canLogIn(user: [UInt8], password: [UInt8], at url: RedisURL) async throws -> Bool {
        var login = url
        login.username = String(decoding: user, as: UTF8.self)
        login.password = String(decoding: password, as: UTF8.self)
        do {
            let c = try await RedisConnection.connect(to: login, options: RedisConnectionOptions(connectTimeout: .seconds(3)))
            await c.close()
            return true
        } catch {
            if error.kind == .authFailed { return false }
            throw error
        }
    }
}
