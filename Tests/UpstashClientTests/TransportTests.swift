import NIOConcurrencyHelpers
import RESP
import Testing

@testable import UpstashClient

/// What goes over the wire, and how the curl thread handles connections, concurrency and deadlines.
@Suite("HTTP transport")
struct TransportTests {
    static func client(_ server: TestHTTPServer, _ options: UpstashClientOptions = .init()) throws -> UpstashClient {
        try UpstashClient(url: server.url, token: "tok-777", options: options)
    }

    @Test(
        "every request carries the bearer token and base64 encoding; JSON for text and escaped binary, the path form for binary that cannot run from a script"
    )
    func headersAndRoutes() async throws {
        try await TestHTTPServer.with(EchoReplies.respond) { server in
            let client = try Self.client(server)
            defer { Task { await client.close() } }
            let binary: [UInt8] = [0x00, 0xFF, 0x0D, 0x0A, 0x80]
            _ = try await client.send(RESPCommand("SET", "k", "v"))
            #expect(try await client.send(RESPCommand("SET", "bin/key", binary)) == .bulkString(binary))
            #expect(try await client.send(RESPCommand("EVAL", "return ARGV[1]", "0", binary)) == .bulkString(binary))
            let requests = server.requests
            #expect(requests.map(\.uri) == ["/", "/", "/EVAL/return%20ARGV%5B1%5D/0"])
            #expect(requests.map(\.method) == ["POST", "POST", "POST"])
            #expect(requests[0].body == Array("[\"SET\",\"k\",\"v\"]".utf8))
            #expect(EchoReplies.commands(requests[1]) == [[Array("SET".utf8), Array("bin/key".utf8), binary]])
            #expect(requests[2].body == binary)
            for r in requests {
                #expect(r.headers["authorization"] == "Bearer tok-777")
                #expect(r.headers["upstash-encoding"] == "base64")
                #expect(r.headers["upstash-response-format"] == nil)
            }
            #expect(requests[0].headers["content-type"] == "application/json")
            #expect(requests[1].headers["content-type"] == "application/json")
            #expect(requests[2].headers["content-type"] == "application/octet-stream")
        }
    }

    @Test("a pipeline with a binary command stays one request, in order")
    func mixedPipeline() async throws {
        try await TestHTTPServer.with(EchoReplies.respond) { server in
            let client = try Self.client(server)
            defer { Task { await client.close() } }
            let commands = [
                RESPCommand("SET", "a", "1"), RESPCommand("SET", "b", "2"), RESPCommand("SET", "c", [0xFE] as [UInt8]),
                RESPCommand("SET", "d", "4"),
            ]
            let replies = try await client.send(batch: commands)
            #expect(replies == [.bulk("1"), .bulk("2"), .bulkString([0xFE]), .bulk("4")])
            #expect(server.requests.map(\.uri) == ["/pipeline"])
        }
    }

    @Test("a transaction carries escaped binary; a binary command Redis refuses from scripts is refused with a clear error, nothing sent")
    func binaryTransaction() async throws {
        try await TestHTTPServer.with(EchoReplies.respond) { server in
            let client = try Self.client(server)
            defer { Task { await client.close() } }
            #expect(
                try await client.transaction([RESPCommand("SET", "a", "1"), RESPCommand("SET", "b", [0xFF] as [UInt8])])
                    == .array([.bulk("1"), .bulkString([0xFF])]))
            let before = server.requests.count
            let error = try #require(
                await upstashError {
                    try await client.transaction([RESPCommand("SET", "a", "1"), RESPCommand("EVAL", "return 1", "0", [0xFF] as [UInt8])])
                })
            #expect(error.kind == .unencodable)
            #expect(error.detail.contains("command 2 (EVAL)"))
            #expect(server.requests.count == before)
        }
    }

    @Test("the Upstash-Sync-Token of a reply is echoed on the next request")
    func syncToken() async throws {
        let counter = NIOLockedValueBox(0)
        let responder: TestHTTPServer.Responder = { request in
            var response = EchoReplies.respond(request)
            let n = counter.withLockedValue {
                $0 += 1
                return $0
            }
            response.headers["upstash-sync-token"] = "sync-\(n)"
            return response
        }
        try await TestHTTPServer.with(responder) { server in
            let client = try Self.client(server)
            defer { Task { await client.close() } }
            for i in 0..<3 { _ = try await client.send(RESPCommand("ECHO", "\(i)")) }
            #expect(server.requests.map { $0.headers["upstash-sync-token"] } == [nil, "sync-1", "sync-2"])
        }
    }

    @Test("sequential requests reuse one kept-alive connection")
    func keepAlive() async throws {
        try await TestHTTPServer.with(EchoReplies.respond) { server in
            let client = try Self.client(server)
            defer { Task { await client.close() } }
            for i in 0..<50 { #expect(try await client.send(RESPCommand("ECHO", "\(i)")) == .bulk("\(i)")) }
            #expect(server.connectionCount == 1)
        }
    }

    @Test("many requests are in flight at once on the curl thread")
    func concurrency() async throws {
        try await TestHTTPServer.with({ request in
            var r = EchoReplies.respond(request)
            r.delay = .seconds(1)
            return r
        }) { server in
            let client = try Self.client(server, .init(maxConnections: 16))
            defer { Task { await client.close() } }
            let start = ContinuousClock.now
            let replies = try await withThrowingTaskGroup(of: (Int, RESPValue).self) { group in
                for i in 0..<16 { group.addTask { (i, try await client.send(RESPCommand("ECHO", "\(i)"))) } }
                var out: [Int: RESPValue] = [:]
                for try await (i, v) in group { out[i] = v }
                return out
            }
            #expect(replies.count == 16)
            #expect(replies.allSatisfy { $0.value == .bulk("\($0.key)") })
            // One after another would take 16 s. The bound is loose because the whole test suite
            // shares two cores; what it proves is that the requests overlapped.
            #expect(ContinuousClock.now - start < .seconds(8))
        }
    }

    @Test("a request past its deadline fails as a transport timeout")
    func timeout() async throws {
        try await TestHTTPServer.with({ request in
            var r = EchoReplies.respond(request)
            r.delay = .seconds(10)
            return r
        }) { server in
            let client = try Self.client(server, .init(retry: .never, requestTimeout: .milliseconds(200)))
            defer { Task { await client.close() } }
            let start = ContinuousClock.now
            let error = try #require(await upstashError { try await client.send(RESPCommand("ECHO", "slow")) })
            #expect(error.kind == .transport)
            #expect(error.detail.lowercased().contains("timeout") || error.detail.lowercased().contains("timed out"))
            // well before the server's 10 s answer (loose: the suite shares two cores)
            #expect(ContinuousClock.now - start < .seconds(8))
        }
    }

    @Test("cancelling the caller's task ends its request at once")
    func cancellation() async throws {
        try await TestHTTPServer.with({ request in
            var r = EchoReplies.respond(request)
            r.delay = .seconds(10)
            return r
        }) { server in
            let client = try Self.client(server)
            defer { Task { await client.close() } }
            let start = ContinuousClock.now
            let task = Task { try await client.send(RESPCommand("ECHO", "never")) }
            try await Task.sleep(for: .milliseconds(200))
            task.cancel()
            let result = await task.result
            // well before the server's 10 s answer (loose: the suite shares two cores)
            #expect(ContinuousClock.now - start < .seconds(8))
            guard case .failure(let error as UpstashError) = result else {
                Issue.record("expected a cancellation, got \(result)")
                return
            }
            #expect(error.kind == .cancelled)
        }
    }

    @Test("after close, requests fail at once instead of hanging")
    func closed() async throws {
        try await TestHTTPServer.with(EchoReplies.respond) { server in
            let client = try Self.client(server)
            #expect(try await client.send(RESPCommand("ECHO", "x")) == .bulk("x"))
            await client.close()
            let error = try #require(await upstashError { try await client.send(RESPCommand("ECHO", "y")) })
            #expect(error.kind == .cancelled)
        }
    }

    @Test("the RESP2 response format returns raw bytes, parsed into exact reply types")
    func resp2() async throws {
        let raw = Array("+PONG\r\n$3\r\nabc\r\n:7\r\n".utf8)
        try await TestHTTPServer.with({ _ in CannedResponse(status: 200, body: raw, headers: ["content-type": "application/octet-stream"]) }
        ) {
            server in
            let client = try Self.client(server)
            defer { Task { await client.close() } }
            let batch = [RESPCommand("PING"), RESPCommand("GET", "k"), RESPCommand("INCR", "n")]
            #expect(try await client.rawRESP2(batch: batch) == raw)
            #expect(try await client.sendRESP2(batch: batch) == [.simpleString(Array("PONG".utf8)), .bulk("abc"), .integer(7)])
            let headers = server.requests[0].headers
            #expect(headers["upstash-response-format"] == "resp2")
            #expect(headers["upstash-encoding"] == nil)
            await #expect(throws: UpstashError.self) { _ = try await client.sendRESP2(RESPCommand("PING")) }
        }
    }
}
