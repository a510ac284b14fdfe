import Foundation
import Migration
import RESP
import RedisClient
import TestSupport
import Testing

/// A keyspace with every type and the awkward cases: binary keys, ±inf scores, groups, TTLs.
func seedEveryType(_ c: RedisClient, prefix: String = "") async throws {
    let p = Array(prefix.utf8)
    var cmds: [RESPCommand] = [
        RESPCommand("SET", p + Array("str:plain".utf8), "hello"),
        RESPCommand("SET", p + Array("str:int".utf8), "12345"),
        RESPCommand("SET", p + Array("str:float".utf8), "3.14159"),
        RESPCommand("SET", p + Array("str:empty".utf8), ""),
        RESPCommand("SET", p + [0, 0xFF, 0xFE, 13, 10, 0x20], [0, 1, 2, 0xFF, 13, 10, 0xC3, 0x28] as [UInt8]),
        RESPCommand("SET", p + Array("emoji 🚀 / ? # % key\n".utf8), "héllo ✓"),
        RESPCommand("SET", p + Array("str:ttl".utf8), "v", "PX", 600_000),
        RESPCommand("PFADD", p + Array("hll".utf8), "a", "b", "c"),
        RESPCommand("SETBIT", p + Array("bitmap".utf8), 1000, 1),
        RESPCommand("HSET", p + Array("hash".utf8), "f1", "v1", "f2", [0, 0xFF] as [UInt8], [0xFE] as [UInt8], "binary field"),
        RESPCommand("PEXPIRE", p + Array("hash".utf8), 900_000),
        RESPCommand("RPUSH", p + Array("list".utf8), "a", "b", "a", "c", "", [0] as [UInt8]),
        RESPCommand("SADD", p + Array("set".utf8), "x", "y", [0xFF] as [UInt8]),
        RESPCommand("ZADD", p + Array("zset".utf8), "-inf", "floor", "5e-324", "tiny", "+inf", "ceiling", "0.1", "tenth", "1e300", "huge"),
        RESPCommand("XADD", p + Array("stream".utf8), "1-1", "f", "v"),
        RESPCommand("XADD", p + Array("stream".utf8), "1-2", "f", "w", "g", [0xFF] as [UInt8]),
        RESPCommand("XADD", p + Array("stream".utf8), "5-0", "k", "v"),
        RESPCommand("XGROUP", "CREATE", p + Array("stream".utf8), "readers", "1-1"),
        RESPCommand("XGROUP", "CREATE", p + Array("stream".utf8), "late", "$"),
        RESPCommand("XADD", p + Array("stream:trimmed".utf8), "9-9", "a", "b"),
        RESPCommand("XDEL", p + Array("stream:trimmed".utf8), "9-9"),
    ]
    for i in 0..<300 { cmds.append(RESPCommand("SET", p + Array("many:\(i)".utf8), "value \(i)", "EX", 3600 + i)) }
    let replies = try await c.send(batch: cmds)
    for r in replies { #expect(!r.isError, "seeding failed: \(r)") }
}

@Suite("migrate: fidelity against real redis-servers")
struct MigrationFidelityTests {
    @Test("every type, binary keys and absolute expiry arrive identical")
    func everyType() async throws {
        try await withRedisServer { source in
            try await withRedisServer { target in
                let s = try source.client()
                let t = try target.client()
                try await seedEveryType(s)
                try await resetCommandStats(target)
                let summary = try await Migrator(source: s, target: t, targetName: target.url, options: .init()).run()
                #expect(summary.isComplete)
                #expect(summary.copied == 315)
                // what the target ran, by Upstash's rule: a script is its call plus every command in it
                let billed = try await billedByCommandStats(target)
                #expect(summary.billedCommands == billed, "summary \(summary.billedCommands), target \(billed)")
                #expect(summary.commandsPerKey <= 1.1)
                let diffs = try await keyspaceDifferences(s, t, ttlToleranceMs: 0)
                #expect(diffs.isEmpty, "\(diffs)")
            }
        }
    }

    @Test("big keys move in chunks under a temporary key and arrive whole", arguments: [false, true])
    func bigKeys(viaCLIChunkSizes: Bool) async throws {
        try await withRedisServer { source in
            try await withRedisServer { target in
                let s = try source.client()
                let t = try target.client()
                var cmds: [RESPCommand] = []
                for chunk in stride(from: 0, to: 20_000, by: 1000) {
                    cmds.append(RESPCommand("RPUSH", arguments: ["big:list"] + (chunk..<chunk + 1000).map { "item-\($0)" }))
                    cmds.append(RESPCommand("HSET", arguments: ["big:hash"] + (chunk..<chunk + 1000).flatMap { ["f\($0)", "v\($0)"] }))
                    cmds.append(RESPCommand("SADD", arguments: ["big:set"] + (chunk..<chunk + 1000).map { "m\($0)" }))
                    cmds.append(
                        RESPCommand("ZADD", arguments: ["big:zset"] + (chunk..<chunk + 1000).flatMap { ["\(Double($0) / 7)", "z\($0)"] }))
                }
                for i in 0..<12_000 { cmds.append(RESPCommand("XADD", "big:stream", "\(i + 1)-0", "n", i)) }
                cmds.append(RESPCommand("XGROUP", "CREATE", "big:stream", "workers", "6000-0"))
                cmds.append(RESPCommand("SET", "big:string", [UInt8](repeating: 0xAB, count: 3_000_000)))
                cmds.append(RESPCommand("PEXPIRE", "big:list", 700_000))
                _ = try await s.send(batch: cmds)
                let options = MigrationOptions(chunkElements: viaCLIChunkSizes ? 5000 : 1500, chunkBytes: 1_000_000)
                let summary = try await Migrator(source: s, target: t, targetName: target.url, options: options).run()
                #expect(summary.isComplete)
                #expect(summary.copied == 6)
                #expect(summary.billedCommands > 6)
                let leftovers = try await allKeys(t, match: "upshift:tmp:*")
                #expect(leftovers.isEmpty)
                let diffs = try await keyspaceDifferences(s, t, ttlToleranceMs: 0)
                #expect(diffs.isEmpty, "\(diffs)")
            }
        }
    }

    @Test("running twice leaves the target identical: no duplicated list items")
    func idempotent() async throws {
        try await withRedisServer { source in
            try await withRedisServer { target in
                let s = try source.client()
                let t = try target.client()
                try await seedEveryType(s)
                _ = try await s.send(RESPCommand("RPUSH", arguments: ["big:list"] + (0..<9000).map { "x\($0)" }))
                let options = MigrationOptions(chunkElements: 2000)
                _ = try await Migrator(source: s, target: t, targetName: target.url, options: options).run()
                let again = try await Migrator(source: s, target: t, targetName: target.url, options: options).run()
                #expect(again.isComplete)
                #expect(try await t.send(RESPCommand("LLEN", "list")) == .integer(6))
                #expect(try await t.send(RESPCommand("LLEN", "big:list")) == .integer(9000))
                let diffs = try await keyspaceDifferences(s, t, ttlToleranceMs: 0)
                #expect(diffs.isEmpty, "\(diffs)")
            }
        }
    }

    @Test("keys expiring during the copy are absent or keep their original expiry, never persistent")
    func expiringKeys() async throws {
        try await withRedisServer { source in
            try await withRedisServer { target in
                let s = try source.client()
                let t = try target.client()
                _ = try await s.send(batch: (0..<3000).map { RESPCommand("SET", "exp:\($0)", "v", "PX", 1 + $0 % 400) })
                var expiry: [String: Int64] = [:]
                for i in 0..<3000 {
                    if let e = try await s.send(RESPCommand("PEXPIRETIME", "exp:\(i)")).integer, e > 0 { expiry["exp:\(i)"] = e }
                }
                let options = MigrationOptions(batch: 20, concurrency: 1)
                let summary = try await Migrator(source: s, target: t, targetName: target.url, options: options).run()
                #expect(summary.failed == 0)
                for key in try await allKeys(t) {
                    let name = String(decoding: key, as: UTF8.self)
                    let e = try await t.send(RESPCommand("PEXPIRETIME", key)).integer ?? -9
                    // -2: it expired on the target since the scan listed it, as it should have
                    if e == -2 { continue }
                    #expect(e > 0, "\(name) arrived without its expiry")
                    if let original = expiry[name] { #expect(e == original, "\(name): \(e) vs \(original)") }
                }
            }
        }
    }
}
