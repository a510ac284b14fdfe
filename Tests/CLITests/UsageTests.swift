import Foundation
import RESP
import RedisClient
import TestSupport
import Testing

/// Every enumerated option refuses what it does not know, before any work, with the valid values.
@Suite("upshift: invalid option values are usage errors")
struct UsageTests {
    static let source = "redis://127.0.0.1:1"
    static let target = ["--target", "redis://127.0.0.1:2"]

    static let refusals: [([String], String)] = [
        (["migrate", "--source", source, "--dry-run", "--type", "blob"], "ReJSON-RL"),
        (["migrate", "--source", source, "--dry-run", "--mode", "fast"], "dump"),
        (["migrate", "--source", source, "--dry-run", "--on-conflict", "merge"], "skip"),
        (["migrate", "--source", source, "--dry-run", "--plan", "platinum"], "payg"),
        (["migrate", "--source", source, "--dry-run", "--read-from", "slaves"], "replicas"),
        (["migrate", "--source", source, "--dry-run", "--batch", "0"], "--batch"),
        (["migrate", "--source", source, "--dry-run", "--retry-for", "soon"], "--retry-for"),
        (["migrate", "--source", source, "--dry-run", "--timeout", "0"], "--timeout"),
        (["migrate", "--source", source, "--dry-run", "--progress-interval", "-1s"], "--progress-interval"),
        (["compare", "--source", source] + target + ["--sample", "0"], "--sample"),
        (["compare", "--source", source] + target + ["--sample", "-3"], "--sample"),
        (["compare", "--source", source] + target + ["--rounds", "0"], "--rounds"),
        (["compare", "--source", source] + target + ["--interval", "later"], "--interval"),
        (["compare", "--source", source] + target + ["--read-from", "any"], "replicas"),
        (["report", "--source", source, "--format", "pdf"], "html"),
        (["report", "--source", source, "--plan", "gold"], "payg"),
        (["gateway", "--token", "t", "--compat", "loose"], "lenient"),
        (["gateway", "--token", "t", "--plan", "gold"], "payg"),
        (["gateway", "--token", "t", "--log-level", "loud"], "trace"),
        (["shadow", "--primary", source, "--target", "redis://127.0.0.1:2", "--mode", "mirror"], "dual-write"),
        (["shadow", "--primary", source, "--target", "redis://127.0.0.1:2", "--primary-side", "cloud"], "upstash"),
    ]

    @Test("a value outside the option's set exits 64 and lists the valid ones", arguments: refusals)
    func refused(_ arguments: [String], _ listed: String) throws {
        let r = try runUpshift(arguments)
        #expect(r.status == 64, "\(arguments): \(r.status) \(r.stderr)")
        #expect(r.stderr.contains(listed), "\(arguments): \(r.stderr)")
    }

    @Test("migrate --type filters by SCAN TYPE: only hashes are copied; ReJSON-RL and json name the same type")
    func typeFilter() async throws {
        try await withRedisServer { source in
            try await withRedisServer { target in
                _ = try await source.client().send(batch: [
                    RESPCommand("SET", "s", "1"), RESPCommand("HSET", "h1", "f", "v"), RESPCommand("HSET", "h2", "f", "v"),
                    RESPCommand("RPUSH", "l", "x"),
                ])
                let r = try runUpshift(["migrate", "--source", source.url, "--target", target.url, "--type", "hash"])
                #expect(r.status == 0, "\(r.stderr)")
                #expect(try await allKeys(try target.client()) == [Array("h1".utf8), Array("h2".utf8)])
                for name in ["ReJSON-RL", "json", "rejson-rl"] {
                    let dry = try runUpshift(["migrate", "--source", source.url, "--dry-run", "--type", name, "--json"])
                    #expect(dry.status == 0, "\(name): \(dry.stderr)")
                }
            }
        }
    }
}
