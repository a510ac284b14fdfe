import Compare
import Foundation
import Migration
import RESP
import RedisClient
import TestSupport
import Testing
import UpstashClient

@Suite("migrate through an unreliable target")
struct UnreliableTargetTests {
    @Test("a target that fails or drops a fifth of the requests: retries, nothing lost, nothing doubled")
    func flakyTarget() async throws {
        try await withRedisServer { source in
            try await withRedisServer { target in
                let gateway = try GatewayProcess(redis: target)
                let proxy = try await FixtureProcess("flaky_http_proxy.py", ["\(gateway.port)", "0.2", "7"])
                defer { proxy.stop() }
                let port = proxy.port

                let s = try source.client()
                var cmds: [RESPCommand] = []
                for i in 0..<600 { cmds.append(RESPCommand("SET", "k:\(i)", "v\(i)", "PX", 900_000 + i)) }
                for i in 0..<60 { cmds.append(RESPCommand("RPUSH", arguments: ["list:\(i)"] + (0..<20).map { "item-\($0)" })) }
                cmds.append(RESPCommand("SET", [0, 0xFF, 0xFE] as [UInt8], [0xC3, 0x28] as [UInt8]))
                _ = try await s.send(batch: cmds)

                var options = UpstashClientOptions()
                options.retry = .init(maxAttempts: 8, baseDelay: .milliseconds(5), maxDelay: .milliseconds(100))
                let flaky = try UpstashClient(url: "http://127.0.0.1:\(port)", token: gateway.token, options: options)
                let summary = try await Migrator(
                    source: s, target: flaky, targetName: flaky.displayName, options: .init(batch: 20, concurrency: 2)
                ).run()
                #expect(summary.isComplete)
                #expect(summary.copied == 661)
                // lists forwarded twice (a reply lost, the request retried) must not have doubled
                let diffs = try await keyspaceDifferences(s, try target.client(), ttlToleranceMs: 0)
                #expect(diffs.isEmpty, "\(diffs.prefix(5))")
                await flaky.close()
            }
        }
    }

    @Test("--mode dump and --mode auto restore with the absolute expiry on a target that takes Redis's dump format")
    func dumpMode() async throws {
        try await withRedisServer { source in
            try await withRedisServer { target in
                let s = try source.client()
                try await s.send(batch: [
                    RESPCommand("SET", "a", "1", "PX", 800_000), RESPCommand("HSET", "h", "f", [0xFF] as [UInt8]),
                    RESPCommand("ZADD", "z", "-inf", "m"), RESPCommand("RPUSH", "l", "x", "y"),
                ]).forEach { #expect(!$0.isError) }
                for mode in ["dump", "auto"] {
                    _ = try await target.client().send(RESPCommand("FLUSHALL"))
                    let r = try runUpshift(["migrate", "--source", source.url, "--target", target.url, "--mode", mode])
                    #expect(r.status == 0, "\(mode): \(r.stderr)")
                    let diffs = try await keyspaceDifferences(s, try target.client(), ttlToleranceMs: 0)
                    #expect(diffs.isEmpty, "\(mode): \(diffs)")
                }
            }
        }
    }
}
