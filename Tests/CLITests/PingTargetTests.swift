import TestSupport
import Testing

@Suite("upshift ping --target")
struct PingTargetTests {
    @Test("pings a REST target through the gateway: PONG and the round trip, no token (needs upshift gateway)")
    func pingsTarget() async throws {
        try await withGateway(token: "tok-ping-4242") { gateway in
            let result = try await offPool { try runUpshift(["ping", "--target", gateway.url, "--token", "tok-ping-4242"]) }
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("target \(gateway.url)"))
            #expect(result.stdout.contains("PONG"))
            #expect(result.stdout.contains("ms"))
            #expect(!(result.stdout + result.stderr).contains("tok-ping-4242"))
        }
    }

    @Test("UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN are the fallbacks (needs upshift gateway)")
    func environment() async throws {
        try await withGateway(token: "tok-env-1") { gateway in
            let result = try await offPool {
                try runUpshift(
                    ["ping"], environment: ["UPSTASH_REDIS_REST_URL": gateway.url, "UPSTASH_REDIS_REST_TOKEN": "tok-env-1"])
            }
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("PONG"))
        }
    }

    @Test("--source and --target together ping both (needs upshift gateway)")
    func both() async throws {
        try await withGateway(token: "tok-both") { gateway in
            let result = try await offPool {
                try runUpshift(["ping", "--source", gateway.redis.url, "--target", gateway.url, "--token", "tok-both"])
            }
            #expect(result.status == 0, "\(result.stderr)")
            let lines = result.stdout.split(separator: "\n")
            #expect(lines.count == 2)
            #expect(lines.first?.hasPrefix("source ") == true)
            #expect(lines.last?.hasPrefix("target ") == true)
            #expect(lines.allSatisfy { $0.contains("PONG") })
        }
    }

    @Test("a wrong token fails in one line, non-zero, without the token (needs upshift gateway)")
    func wrongToken() async throws {
        try await withGateway(token: "right-token") { gateway in
            let result = try await offPool { try runUpshift(["ping", "--target", gateway.url, "--token", "wrong-token-31337"]) }
            #expect(result.status != 0)
            #expect(result.stderr.split(separator: "\n").count == 1)
            #expect(result.stderr.contains("WRONGPASS") || result.stderr.contains("authentication"))
            #expect(!(result.stdout + result.stderr).contains("wrong-token-31337"))
        }
    }

    @Test("a closed port fails in one line naming the host, without the token")
    func refused() async throws {
        let port = try freePort()
        let result = try await offPool { try runUpshift(["ping", "--target", "http://127.0.0.1:\(port)", "--token", "topsecret-99"]) }
        #expect(result.status != 0)
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(result.stderr.contains("127.0.0.1:\(port)"))
        #expect(result.stderr.contains("refused"))
        #expect(!result.stderr.contains("topsecret-99"))
    }

    @Test("a REST target without a token is a usage error")
    func missingToken() async throws {
        let result = try await offPool {
            try runUpshift(["ping", "--target", "http://127.0.0.1:1"], environment: ["UPSTASH_REDIS_REST_TOKEN": ""])
        }
        #expect(result.status == 64)
        #expect(result.stderr.contains("--token"))
    }

    @Test("neither --source nor --target is a usage error")
    func nothingToPing() async throws {
        let result = try await offPool { try runUpshift(["ping"], environment: ["UPSTASH_REDIS_REST_URL": ""]) }
        #expect(result.status == 64)
        #expect(result.stderr.contains("--target"))
    }
}
