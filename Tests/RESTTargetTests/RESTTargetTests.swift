import Checklist
import Compare
import Foundation
import Migration
import RESP
import RedisClient
import TestSupport
import Testing
import UpstashClient

/// The jobs against a REST target: the Upstash client talking to the gateway in front of a real redis-server.
@Suite("jobs against a REST target (UpstashClient → gateway → redis-server)")
struct RESTTargetTests {
    @Test("consecutive requests echo the sync token cleanly (a CRLF in it once broke every second request)")
    func syncTokenEcho() async throws {
        try await withRedisServer { server in
            let gateway = try GatewayProcess(redis: server)
            let client = try UpstashClient(url: gateway.url, token: gateway.token)
            for i in 0..<5 {
                #expect(try await client.send(RESPCommand("SET", "k", i)) == .ok)
                #expect(
                    try await client.send(batch: [RESPCommand("GET", "k"), RESPCommand("INCR", "k")]) == [
                        .bulk("\(i)"), .integer(Int64(i + 1)),
                    ])
            }
            await client.close()
        }
    }

    @Test("migrate into the gateway: every type, binary keys and values, absolute expiry; compare is clean")
    func migrateAndCompare() async throws {
        try await withRedisServer { source in
            try await withRedisServer { target in
                let gateway = try GatewayProcess(redis: target)
                let s = try source.client()
                let rest = try UpstashClient(url: gateway.url, token: gateway.token)
                var cmds: [RESPCommand] = [
                    RESPCommand("SET", [0, 0xFF, 13, 10] as [UInt8], [0xC3, 0x28, 0, 0xFE] as [UInt8], "PX", 500_000),
                    RESPCommand("HSET", "h", [0xFF] as [UInt8], [0xFE] as [UInt8], "text", "✓"),
                    RESPCommand("RPUSH", "l", "a", "b", "a"),
                    RESPCommand("SADD", "s", "x", [0x80] as [UInt8]),
                    RESPCommand("ZADD", "z", "-inf", "lo", "5e-324", "tiny", "+inf", "hi"),
                    RESPCommand("XADD", "x", "1-1", "f", "v"),
                    RESPCommand("XGROUP", "CREATE", "x", "g", "0"),
                    RESPCommand("SET", "emoji 🚀 / ? # %", "v", "EX", 1000),
                ]
                cmds.append(RESPCommand("RPUSH", arguments: ["big"] + (0..<7000).map { "e\($0)" }))
                for i in 0..<400 { cmds.append(RESPCommand("SET", "k:\(i)", "v\(i)")) }
                _ = try await s.send(batch: cmds)
                let summary = try await Migrator(source: s, target: rest, targetName: rest.displayName, options: .init(chunkElements: 3000))
                    .run()
                #expect(summary.isComplete)
                #expect(summary.copied == 408)
                let diffs = try await keyspaceDifferences(s, try target.client(), ttlToleranceMs: 0)
                #expect(diffs.isEmpty, "\(diffs)")
                let report = try await Comparer(
                    source: s, target: rest, options: CompareOptions(rounds: 1, interval: 0, chunkElements: 2000)
                ).run()
                #expect(report.isClean, "\(report.differences)")
                _ = try await target.client().send(RESPCommand("SET", "k:7", "changed"))
                let dirty = try await Comparer(source: s, target: rest, options: CompareOptions(rounds: 1, interval: 0)).run()
                #expect(dirty.differences.map(\.key) == ["k:7"])
                await rest.close()
            }
        }
    }

    @Test("verify: every shipped scenario passes on Redis and the gateway; BLPOP is reported as not available over REST")
    func verifyBothBackends() async throws {
        try await withRedisServer { source in
            try await withRedisServer { target in
                let gateway = try GatewayProcess(redis: target)
                let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                    .deletingLastPathComponent()
                let lists = try Checklist.load(path: root.appendingPathComponent("checklists").path)
                let rest = try UpstashClient(url: gateway.url, token: gateway.token)
                let report = await Verification(
                    checklists: lists, backends: [("redis", RedisClient(url: try RedisURL(source.url), connections: 8)), ("upstash", rest)]
                ).run()
                #expect(report.isPassing, "\(report.table())")
                let unavailable = Set(report.results.filter { $0.status == .unavailable }.map { "\($0.backend):\($0.scenario)" })
                #expect(unavailable == ["redis:Upstash-style script with allow-key-locking", "upstash:blocking pop (BLPOP, BRPOP)"])
                #expect(report.seconds < 60)
                await rest.close()
            }
        }
    }
}
