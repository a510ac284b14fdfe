import Foundation
import TestSupport
import Testing

/// Issue #16, item 3, end to end: every command, given a mistyped URL with a password in it (by flag
/// or by REDIS_URL), fails without printing the password on stdout or stderr.
@Suite("mistyped URLs never print their password, from any command")
struct URLSecretCommandTests {
    static let secret = "S3cr3tPass-0b1c"

    /// The shapes of issue #16 and more: lost or doubled separators around the credentials.
    static let sourceShapes = [
        "redis//:PW@127.0.0.1:6379", "redis:/:PW@127.0.0.1:6379", "redis:PW@127.0.0.1:6379", ":PW@127.0.0.1:6379",
        "redis://:PW", "redis://default:PW", "redis://:PW127.0.0.1:6379", "redis://user:PW/127.0.0.1:6379",
        "rediss//default:PW@db.example.com:6380", "redis:///:PW@127.0.0.1:1/x", "redis://:PW@127.0.0.1:6379/db0",
        "unix//:PW@/tmp/redis.sock", " redis://:PW@127.0.0.1:99999",
    ].map { $0.replacingOccurrences(of: "PW", with: secret) }

    /// Targets: RESP shapes as above, and REST URLs carrying a token where none belongs.
    static let targetShapes =
        sourceShapes.filter { $0.hasPrefix("redis") }
        + [
            "https://:PW@eu1.upstash.io", "https//default:PW@eu1.upstash.io", "https://eu1.upstash.io?_token=PW",
            "https://eu1.upstash.io:PW", "https://eu1.upstash.io_token=PW", "https://eu1.upstash.io/_token=PW", "PW://eu1.upstash.io",
        ].map { $0.replacingOccurrences(of: "PW", with: secret) }

    /// Each command with `URL` where the source (or primary, or served Redis) goes.
    static let sourceCommands: [[String]] = [
        ["ping", "--source", "URL"],
        ["report", "--source", "URL"],
        ["migrate", "--source", "URL", "--target", "http://127.0.0.1:1", "--token", "t"],
        ["compare", "--source", "URL", "--target", "http://127.0.0.1:1", "--token", "t"],
        ["verify", "--source", "URL", "--target", "http://127.0.0.1:1", "--token", "t"],
        ["shadow", "--listen", "127.0.0.1:0", "--primary", "URL"],
        ["gateway", "--listen", "127.0.0.1:0", "--token", "t", "--redis", "URL"],
    ]

    /// Each command with `URL` where the target goes.
    static let targetCommands: [[String]] = [
        ["ping", "--source", "redis://127.0.0.1:1", "--target", "URL", "--token", "t"],
        ["migrate", "--source", "redis://127.0.0.1:1", "--target", "URL", "--token", "t"],
        ["compare", "--source", "redis://127.0.0.1:1", "--target", "URL", "--token", "t"],
        ["verify", "--source", "redis://127.0.0.1:1", "--target", "URL", "--token", "t"],
        ["shadow", "--listen", "127.0.0.1:0", "--primary", "redis://127.0.0.1:1", "--target", "URL", "--token", "t"],
    ]

    static func expectSilent(_ arguments: [String], environment: [String: String] = [:]) throws {
        let r = try runUpshift(arguments, environment: environment, timeout: 60)
        let shown = "\(arguments.joined(separator: " ")) \(environment)"
        #expect(r.status != 0, "\(shown) succeeded")
        #expect(!r.stdout.contains(secret), "\(shown) printed the password on stdout: \(r.stdout)")
        #expect(!r.stderr.contains(secret), "\(shown) printed the password on stderr: \(r.stderr)")
    }

    @Test("as the source, the primary or the served Redis", arguments: sourceCommands)
    func sources(_ command: [String]) throws {
        for url in Self.sourceShapes {
            try Self.expectSilent(command.map { $0 == "URL" ? url : $0 })
        }
    }

    @Test("from REDIS_URL", arguments: sourceCommands)
    func environment(_ command: [String]) throws {
        var withoutSource: [String] = []
        for a in command {
            if a == "URL" {
                withoutSource.removeLast()  // its flag
            } else {
                withoutSource.append(a)
            }
        }
        for url in Self.sourceShapes {
            try Self.expectSilent(withoutSource, environment: ["REDIS_URL": url])
        }
    }

    @Test("as the target", arguments: targetCommands)
    func targets(_ command: [String]) throws {
        for url in Self.targetShapes {
            try Self.expectSilent(command.map { $0 == "URL" ? url : $0 })
        }
    }

    @Test("as the target, from UPSTASH_REDIS_REST_URL")
    func targetEnvironment() throws {
        for url in Self.targetShapes where url.hasPrefix("http") || url.contains("://eu1") {
            try Self.expectSilent(
                ["ping", "--source", "redis://127.0.0.1:1", "--token", "t"], environment: ["UPSTASH_REDIS_REST_URL": url])
        }
    }
}
