import Testing
import UpstashProfile

@testable import UpstashClient

@Suite("REST URL, display name and options")
struct EndpointTests {
    static let valid: [(String, String, Bool)] = [
        ("https://eu1-fine-cat-12345.upstash.io", "https://eu1-fine-cat-12345.upstash.io", false),
        ("https://EU1-Fine-Cat.upstash.io/", "https://eu1-fine-cat.upstash.io", false),
        ("http://127.0.0.1:8079", "http://127.0.0.1:8079", true),
        ("http://localhost:8079/base/", "http://localhost:8079/base", true),
        ("http://[::1]:8079", "http://[::1]:8079", true),
        ("  https://10.0.0.5:443  ", "https://10.0.0.5:443", false),
    ]

    @Test("REST URLs parse; this machine is recognised", arguments: valid)
    func parses(_ text: String, _ description: String, _ local: Bool) throws {
        let endpoint = try UpstashEndpoint(text)
        #expect(endpoint.description == description)
        #expect(endpoint.isLocal == local)
    }

    @Test(
        "unusable URLs are refused, and the refusal never repeats a secret",
        arguments: [
            "redis://127.0.0.1:6379", "eu1.upstash.io", "https://user:s3cret-tok@eu1.upstash.io",
            "https://eu1.upstash.io?_token=s3cret-tok",
            "https://:8079", "http://127.0.0.1:99999", "http://[::1",
        ])
    func refuses(_ text: String) {
        do {
            _ = try UpstashEndpoint(text)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.kind == .invalidURL)
            #expect(!error.description.contains("s3cret-tok"))
        }
    }

    @Test("displayName never includes the token")
    func displayName() async throws {
        let client = try UpstashClient(url: "https://eu1-fine-cat.upstash.io", token: "AXt0-sekrit-token")
        defer { Task { await client.close() } }
        #expect(client.displayName == "https://eu1-fine-cat.upstash.io")
        #expect(!client.displayName.contains("sekrit"))
    }

    @Test("the commands/s budget: the plan's for a remote host, none for localhost, or as given")
    func budgets() async throws {
        let remote = try UpstashClient(url: "https://eu1.upstash.io", token: "t", plan: UpstashPlan.named("fixed-100gb")!)
        let local = try UpstashClient(url: "http://127.0.0.1:8079", token: "t")
        let forced = try UpstashClient(url: "http://127.0.0.1:8079", token: "t", options: .init(commandsPerSecond: .perSecond(50)))
        let free = try UpstashClient(url: "https://eu1.upstash.io", token: "t", options: .init(commandsPerSecond: .unlimited))
        #expect(remote.commandsPerSecond == 16_000)
        #expect(local.commandsPerSecond == nil)
        #expect(forced.commandsPerSecond == 50)
        #expect(free.commandsPerSecond == nil)
        #expect(remote.maxRequestBytes == 75 * 1024 * 1024)
        for c in [remote, local, forced, free] { await c.close() }
    }

    @Test("an empty token, or one with control characters, is refused without echoing it")
    func badTokens() {
        for token in ["", "abc\r\nX-Evil: 1"] {
            #expect(throws: UpstashError.self) { _ = try UpstashClient(url: "https://eu1.upstash.io", token: token) }
        }
        do {
            _ = try UpstashClient(url: "https://eu1.upstash.io", token: "abc\r\nX-Evil: 1")
        } catch {
            #expect(error.kind == .auth)
            #expect(!error.description.contains("X-Evil"))
        }
    }

    @Test("backoff grows exponentially, is capped, and is jittered")
    func backoff() {
        let policy = UpstashClientOptions.RetryPolicy(maxAttempts: 10, baseDelay: .milliseconds(100), maxDelay: .seconds(1))
        for attempt in 1...8 {
            let ceiling = min(Duration.milliseconds(100) * (1 << (attempt - 1)), .seconds(1))
            let samples = (0..<50).map { _ in policy.delay(after: attempt) }
            #expect(samples.allSatisfy { $0 >= ceiling / 2 && $0 <= ceiling })
            #expect(Set(samples.map { $0.components.attoseconds }).count > 1)
        }
    }
}
