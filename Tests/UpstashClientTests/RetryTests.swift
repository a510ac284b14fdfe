import NIOConcurrencyHelpers
import RESP
import TestSupport
import Testing

@testable import UpstashClient

/// Retries against a real HTTP server that fails on purpose.
@Suite("retries and error kinds")
struct RetryTests {
    static let fast = UpstashClientOptions.RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(10), maxDelay: .milliseconds(40))

    static func client(_ server: TestHTTPServer, retry: UpstashClientOptions.RetryPolicy = fast) throws -> UpstashClient {
        try UpstashClient(url: server.url, token: "tok-secret-991", options: .init(retry: retry))
    }

    /// Fails the first `failures` requests with `status`, then echoes.
    static func failing(_ failures: Int, status: Int = 503) -> TestHTTPServer.Responder {
        let count = NIOLockedValueBox(0)
        return { request in
            let n = count.withLockedValue {
                $0 += 1
                return $0
            }
            if n <= failures { return .json(status, "{\"error\":\"ERR upstream redis unavailable\"}") }
            return EchoReplies.respond(request)
        }
    }

    @Test("5xx is retried until it succeeds", arguments: [1, 2, 3])
    func retriesServerErrors(_ failures: Int) async throws {
        try await TestHTTPServer.with(Self.failing(failures)) { server in
            let client = try Self.client(server)
            defer { Task { await client.close() } }
            let reply = try await client.send(RESPCommand("ECHO", "hello"))
            #expect(reply == .bulk("hello"))
            #expect(server.requests.count == failures + 1)
        }
    }

    @Test("5xx beyond max attempts throws a server error after exactly max attempts")
    func givesUp() async throws {
        try await TestHTTPServer.with(Self.failing(100, status: 502)) { server in
            let client = try Self.client(server, retry: .init(maxAttempts: 3, baseDelay: .milliseconds(5), maxDelay: .milliseconds(10)))
            defer { Task { await client.close() } }
            let error = try #require(await upstashError { try await client.send(RESPCommand("ECHO", "x")) })
            #expect(error.kind == .server)
            #expect(error.status == 502)
            #expect(error.description.contains("127.0.0.1:\(server.port)"))
            #expect(error.description.contains("after 3 attempts"))
            #expect(server.requests.count == 3)
        }
    }

    @Test("a 400 command error is a reply value and is never retried")
    func noRetryOn400() async throws {
        let text = "WRONGTYPE Operation against a key holding the wrong kind of value"
        try await TestHTTPServer.with({ _ in .json(400, "{\"error\":\"\(text)\"}") }) { server in
            let client = try Self.client(server)
            defer { Task { await client.close() } }
            let reply = try await client.send(RESPCommand("LPUSH", "s", "x"))
            #expect(reply == .error(Array(text.utf8)))
            #expect(server.requests.count == 1)
        }
    }

    @Test("401 is an auth error: not retried, names the host, never the token")
    func auth() async throws {
        try await TestHTTPServer.with({ _ in .json(401, "{\"error\":\"WRONGPASS invalid or missing auth token\"}") }) { server in
            let client = try Self.client(server)
            defer { Task { await client.close() } }
            let error = try #require(await upstashError { try await client.send(RESPCommand("PING")) })
            #expect(error.kind == .auth)
            #expect(error.description.contains("WRONGPASS"))
            #expect(error.description.contains("127.0.0.1:\(server.port)"))
            #expect(!error.description.contains("tok-secret-991"))
            #expect(server.requests.count == 1)
        }
    }

    static let limitReplies: [(Int, String)] = [
        (400, "ERR max request size exceeded"), (413, "ERR max request size exceeded"),
        (429, "ERR max daily request limit exceeded"), (400, "ERR max requests limit exceeded"),
        (500, "ERR max requests limit exceeded"),
    ]

    @Test("any non-2xx carrying a limit text is a limit error, never retried", arguments: limitReplies)
    func limits(_ status: Int, _ text: String) async throws {
        try await TestHTTPServer.with({ _ in .json(status, "{\"error\":\"\(text)\"}") }) { server in
            let client = try Self.client(server)
            defer { Task { await client.close() } }
            let error = try #require(
                await upstashError { try await client.send(batch: [RESPCommand("SET", "a", "1"), RESPCommand("SET", "b", "2")]) })
            #expect(error.kind == .limit)
            #expect(error.detail == text)
            #expect(error.status == status)
            #expect(server.requests.count == 1)
        }
    }

    @Test("a malformed reply is a protocol error")
    func malformed() async throws {
        for body in ["not json", "{\"result\":\"%%%\"}", "[1,2]", "{\"nothing\":1}"] {
            try await TestHTTPServer.with({ _ in .json(200, body) }) { server in
                let client = try Self.client(server)
                defer { Task { await client.close() } }
                let error = try #require(await upstashError { try await client.send(RESPCommand("GET", "k")) })
                #expect(error.kind == .protocolError)
                #expect(server.requests.count == 1)
            }
        }
    }

    @Test("connection refused is retried, then an unreachable error naming the host")
    func refused() async throws {
        let port = try freePort()
        let client = try UpstashClient(
            url: "http://127.0.0.1:\(port)", token: "tok-secret-991",
            options: .init(retry: .init(maxAttempts: 3, baseDelay: .milliseconds(20), maxDelay: .milliseconds(40))))
        defer { Task { await client.close() } }
        let start = ContinuousClock.now
        let error = try #require(await upstashError { try await client.send(RESPCommand("PING")) })
        #expect(error.kind == .unreachable)
        #expect(error.description.contains("127.0.0.1:\(port)"))
        #expect(error.description.contains("refused"))
        #expect(error.description.contains("after 3 attempts"))
        #expect(!error.description.contains("tok-secret-991"))
        // two pauses of at least half their ceiling: 10 ms and 20 ms
        #expect(ContinuousClock.now - start >= .milliseconds(30))
    }
}

/// The time budget: retries go on while it lasts, whatever the attempt count, and each is told.
@Suite("retry budget")
struct RetryBudgetTests {
    @Test("a policy with a budget pauses until the budget is spent, the last pause cut to fit")
    func pauses() {
        let policy = UpstashClientOptions.RetryPolicy.within(.seconds(10), baseDelay: .seconds(1), maxDelay: .seconds(4))
        #expect(policy.maxAttempts == .max)
        for attempt in 1...50 {
            let pause = policy.pause(after: attempt, elapsed: .seconds(1))
            #expect(pause.map { $0 > .zero && $0 <= .seconds(4) } == true)
        }
        #expect(policy.pause(after: 3, elapsed: .milliseconds(9_900))! <= .milliseconds(100))
        #expect(policy.pause(after: 3, elapsed: .seconds(10)) == nil)
        #expect(policy.pause(after: 3, elapsed: .seconds(11)) == nil)
        #expect(UpstashClientOptions.RetryPolicy.never.pause(after: 1, elapsed: .zero) == nil)
        #expect(UpstashClientOptions.RetryPolicy(maxAttempts: 3).pause(after: 3, elapsed: .zero) == nil)
    }

    @Test("5xx retried until the budget runs out, however many attempts; every retry reported without the token")
    func budgetRunsOut() async throws {
        try await TestHTTPServer.with(RetryTests.failing(10_000, status: 503)) { server in
            let notices = NIOLockedValueBox<[UpstashClientOptions.RetryNotice]>([])
            let options = UpstashClientOptions(
                retry: .within(.milliseconds(1500), baseDelay: .milliseconds(10), maxDelay: .milliseconds(40)),
                onRetry: { n in notices.withLockedValue { $0.append(n) } })
            let client = try UpstashClient(url: server.url, token: "tok-secret-991", options: options)
            defer { Task { await client.close() } }
            let start = ContinuousClock.now
            let error = try #require(await upstashError { try await client.send(RESPCommand("ECHO", "x")) })
            let took = ContinuousClock.now - start
            #expect(error.kind == .server)
            #expect(took >= .milliseconds(1500) && took < .seconds(10), "\(took)")
            #expect(error.description.contains("attempts in"), "\(error)")
            let told = notices.withLockedValue { $0 }
            // one notice per retry (how many fit in the budget depends on the machine's load)
            #expect(told.count >= 2)
            #expect(told.count == server.requests.count - 1)
            for (i, n) in told.enumerated() {
                #expect(n.attempt == i + 1)
                #expect(n.remaining.map { $0 >= .zero } == true)
                #expect(n.description.contains("127.0.0.1:\(server.port)"))
                #expect(n.description.contains("503"))
                #expect(!n.description.contains("tok-secret-991"))
            }
        }
    }

    @Test("a server that never answers times out per request and is retried within the budget")
    func timeoutRetried() async throws {
        let calls = NIOLockedValueBox(0)
        let responder: TestHTTPServer.Responder = { request in
            let n = calls.withLockedValue {
                $0 += 1
                return $0
            }
            // held back long past the client's timeout: the connection is open and silent
            return n <= 2
                ? CannedResponse(status: 200, body: Array("{\"result\":\"late\"}".utf8), delay: .seconds(5)) : EchoReplies.respond(request)
        }
        try await TestHTTPServer.with(responder) { server in
            let notices = NIOLockedValueBox(0)
            let options = UpstashClientOptions(
                retry: .within(.seconds(10), baseDelay: .milliseconds(10), maxDelay: .milliseconds(20)),
                onRetry: { n in
                    #expect(n.error.kind == .transport)
                    notices.withLockedValue { $0 += 1 }
                }, requestTimeout: .milliseconds(200))
            let client = try UpstashClient(url: server.url, token: "tok-secret-991", options: options)
            defer { Task { await client.close() } }
            let start = ContinuousClock.now
            #expect(try await client.send(RESPCommand("ECHO", "late")) == .bulk("late"))
            #expect(ContinuousClock.now - start >= .milliseconds(400))
            #expect(notices.withLockedValue { $0 } == 2)
        }
    }

    @Test("an unreadable reply says the URL is not an Upstash REST endpoint", arguments: [200, 404, 501])
    func notUpstash(_ status: Int) async throws {
        try await TestHTTPServer.with({ _ in
            CannedResponse(
                status: status, body: Array("<html><body>Welcome to nginx!</body></html>".utf8), headers: ["content-type": "text/html"])
        }) { server in
            let client = try RetryTests.client(server)
            defer { Task { await client.close() } }
            let error = try #require(await upstashError { try await client.send(RESPCommand("GET", "k")) })
            #expect(error.kind == .protocolError)
            #expect(error.description.contains("this is not an Upstash REST endpoint"), "\(error)")
            #expect(server.requests.count == 1, "an answer that will never change was retried")
        }
    }
}
