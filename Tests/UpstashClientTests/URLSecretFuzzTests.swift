import RedisClient
import Testing
import UpstashClient

/// Issue #16, item 3: a mistyped URL never prints its password. Both URL parsers are fed thousands
/// of malformed variants of URLs holding a planted secret, and nothing they say (the error, or the
/// description and endpoint of what they accepted) may contain it.
@Suite("URL parsers never repeat a planted secret")
struct URLSecretFuzzTests {
    static let secrets = ["S3cr3tPass-7f4e", "p@ss:w/rd%x9"]

    /// A deterministic generator (Knuth's MMIX LCG, high bits): the same cases on every run.
    struct Knuth64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return (state >> 32) | (state << 32)
        }
    }

    /// `template` with SECRET replaced, then one or two edits outside the secret: a character deleted,
    /// replaced by a separator, or doubled. Kept only while the secret is still marked as one by a ':'
    /// before it or an '@' (or `_token=`) after it: with both gone it is indistinguishable from a host name.
    static func variants(of template: String, secret: String, count: Int, seed: UInt64) -> [String] {
        var rng = Knuth64(state: seed)
        let separators: [Character] = [":", "/", "@", "?", "=", ".", " ", "#", "&"]
        var out: [String] = [template.replacingOccurrences(of: "SECRET", with: secret)]
        while out.count < count {
            let parts = template.components(separatedBy: "SECRET")
            var before = Array(parts[0])
            var after = Array(parts[1])
            for _ in 0..<Int.random(in: 1...2, using: &rng) {
                let inBefore = Bool.random(using: &rng) || after.isEmpty
                var side = inBefore ? before : after
                guard !side.isEmpty else { continue }
                let i = Int.random(in: 0..<side.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: side.remove(at: i)
                case 1: side[i] = separators.randomElement(using: &rng)!
                default: side.insert(side[i], at: i)
                }
                if inBefore { before = side } else { after = side }
            }
            let marked = before.last == ":" || after.first == "@" || String(before).hasSuffix("_token=")
            if marked { out.append(String(before) + secret + String(after)) }
        }
        return out
    }

    static let redisTemplates = [
        "redis://:SECRET@127.0.0.1:6379/0", "redis://user:SECRET@127.0.0.1:6379",
        "rediss://default:SECRET@db.example.com:6380?tls-insecure=true",
        "unix://:SECRET@/tmp/redis.sock?db=2", "redis://SECRET@10.0.0.1", "redis://app:SECRET@[::1]:6379",
    ]

    @Test("RedisURL: errors, descriptions and endpoints", arguments: redisTemplates)
    func redisURLs(_ template: String) {
        for secret in Self.secrets {
            for (n, text) in Self.variants(of: template, secret: secret, count: 1500, seed: UInt64(template.utf8.count * 31)).enumerated() {
                let said: String
                do {
                    let url = try RedisURL(text)
                    said = url.description + " " + url.endpoint
                } catch {
                    said = error.description
                }
                #expect(!said.contains(secret), "case \(n): \(text) → \(said)")
                #expect(!RedisURL.redact(text).contains(secret), "case \(n): redact(\(text))")
            }
        }
    }

    @Test(
        "the shapes of issue #16 name host and port, never the password",
        arguments: [
            ("redis//:PW@127.0.0.1:6379", "***@127.0.0.1:6379"), ("redis:/:PW@127.0.0.1:6379", "***@127.0.0.1:6379"),
            ("redis:PW@127.0.0.1:6379", "***@127.0.0.1:6379"), (":PW@127.0.0.1:6379", "***@127.0.0.1:6379"),
            ("redis://user:PW", "redis://user:***"), ("redis://:PW127.0.0.1:6379", "redis://:***"),
        ])
    func issueShapes(_ text: String, _ shown: String) {
        let url = text.replacingOccurrences(of: "PW", with: "S3cr3tPass")
        #expect(throws: RedisClientError.self) { try RedisURL(url) }
        #expect(RedisURL.redact(url) == shown)
    }

    static let restTemplates = [
        "https://SECRET@eu1-fine-cat.upstash.io", "https://default:SECRET@eu1-fine-cat.upstash.io:443",
        "https://eu1-fine-cat.upstash.io?_token=SECRET", "https://eu1-fine-cat.upstash.io/?_token=SECRET",
    ]

    @Test("UpstashEndpoint: a token in a mistyped REST URL is never repeated", arguments: restTemplates)
    func restURLs(_ template: String) {
        let token = "AXt0-SECRET-TOKEN-4242"
        for (n, text) in Self.variants(of: template, secret: token, count: 1500, seed: UInt64(template.utf8.count * 17)).enumerated() {
            let said: String
            do {
                let endpoint = try UpstashEndpoint(text)
                said = endpoint.description + " " + endpoint.hostAndPort
            } catch {
                said = error.description
            }
            #expect(!said.contains(token), "case \(n): \(text) → \(said)")
        }
    }
}
