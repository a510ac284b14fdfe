import Foundation
import RESP
import RedisClient
import TestSupport
import Testing

/// `Fixtures/outage_http_proxy.py` in front of a gateway: `mode` (503 or hang) for `seconds`
/// from the first request, then the gateway's own answers.
private func withOutage<T>(
    _ gateway: GatewayProcess, mode: String, seconds: Double, _ body: (Int) async throws -> T
) async throws -> T {
    try await withFixture("outage_http_proxy.py", ["\(gateway.port)", mode, "\(seconds)"], body)
}

@Suite("migrate through a target outage: retries within --retry-for, each one reported")
struct OutageTests {
    static let token = "tok-outage-5521"

    static func seed(_ source: RedisServer) async throws {
        _ = try await source.client().send(batch: (0..<300).map { RESPCommand("SET", "k:\($0)", "v\($0)", "PX", 900_000) })
    }

    static func migrate(_ source: RedisServer, port: Int, _ extra: [String]) async throws -> CommandResult {
        try await runUpshift(
            ["migrate", "--source", source.url, "--target", "http://127.0.0.1:\(port)", "--token", token, "--batch", "100"] + extra,
            in: source.directory, timeout: 60)
    }

    @Test("a target answering 503 for 2 s: the copy waits it out, one stderr line per retry naming the host, never the token")
    func serviceUnavailable() async throws {
        try await withRedisServer { source in
            try await withGateway(token: Self.token) { gateway in
                try await Self.seed(source)
                try await withOutage(gateway, mode: "503", seconds: 2) { port in
                    let started = Date()
                    let r = try await Self.migrate(source, port: port, ["--retry-for", "30s"])
                    #expect(r.status == 0, "\(r.stderr)")
                    #expect(Date().timeIntervalSince(started) >= 2)
                    let retries = r.stderr.split(separator: "\n").filter { $0.hasPrefix("upshift: retrying: ") }
                    #expect(retries.count >= 3, "\(r.stderr)")
                    #expect(retries.allSatisfy { $0.contains("127.0.0.1:\(port)") && $0.contains("503") }, "\(retries)")
                    #expect(retries.contains { $0.contains("of the retry budget left") }, "\(retries)")
                    #expect(!r.stderr.contains(Self.token) && !r.stdout.contains(Self.token))
                    let diffs = try await keyspaceDifferences(try source.client(), try gateway.redis.client(), ttlToleranceMs: 0)
                    #expect(diffs.isEmpty, "\(diffs.prefix(5))")
                }
            }
        }
    }

    @Test("a target that accepts and never answers: each request times out after --timeout, is reported, and retried")
    func silentTarget() async throws {
        try await withRedisServer { source in
            try await withGateway(token: Self.token) { gateway in
                try await Self.seed(source)
                try await withOutage(gateway, mode: "hang", seconds: 1.5) { port in
                    let r = try await Self.migrate(source, port: port, ["--retry-for", "30s", "--timeout", "400ms"])
                    #expect(r.status == 0, "\(r.stderr)")
                    let retries = r.stderr.split(separator: "\n").filter { $0.hasPrefix("upshift: retrying: ") }
                    #expect(!retries.isEmpty, "\(r.stderr)")
                    #expect(retries.allSatisfy { $0.contains("127.0.0.1:\(port)") && $0.lowercased().contains("timed out") }, "\(retries)")
                    #expect(!r.stderr.contains(Self.token))
                    #expect(try await gateway.redis.client().send(RESPCommand("DBSIZE")) == .integer(300))
                }
            }
        }
    }

    @Test("an outage longer than --retry-for: the run gives up when the budget is spent, saying how long it tried")
    func budgetSpent() async throws {
        try await withRedisServer { source in
            try await withGateway(token: Self.token) { gateway in
                try await Self.seed(source)
                try await withOutage(gateway, mode: "503", seconds: 600) { port in
                    let started = Date()
                    let r = try await Self.migrate(source, port: port, ["--retry-for", "1500ms"])
                    let took = Date().timeIntervalSince(started)
                    #expect(r.status != 0)
                    #expect(took >= 1.5 && took < 10, "took \(took) s")
                    #expect(r.stderr.contains("attempts in"), "\(r.stderr)")
                    #expect(!r.stderr.contains(Self.token))
                }
            }
        }
    }

    @Test("nothing listening at --target: it fails in well under a second, not after the whole --retry-for")
    func nothingThere() async throws {
        try await withRedisServer { source in
            try await Self.seed(source)
            let port = try freePort()
            let started = Date()
            let r = try await Self.migrate(source, port: port, ["--retry-for", "5m"])
            #expect(r.status != 0)
            #expect(Date().timeIntervalSince(started) < 5)
            #expect(r.stderr.contains("127.0.0.1:\(port)") && r.stderr.contains("refused"), "\(r.stderr)")
            #expect(r.stderr.contains("check --target"), "\(r.stderr)")
        }
    }
}
