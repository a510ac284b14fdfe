import Compare
import Foundation
import Migration
import RESP
import RedisClient
import TestSupport
import Testing

@Suite("compare against real redis-servers")
struct CompareTests {
    /// Fills `c` with a keyspace of every type, big keys included.
    static func seed(_ c: RedisClient) async throws {
        var cmds: [RESPCommand] = [
            RESPCommand("SET", "s", "v", "PX", 900_000),
            RESPCommand("SET", [0, 0xFF, 10] as [UInt8], [0xFE, 0] as [UInt8]),
            RESPCommand("HSET", "h", "a", "1", "b", "2"),
            RESPCommand("RPUSH", "l", "1", "2", "3"),
            RESPCommand("SADD", "set", "x", "y"),
            RESPCommand("ZADD", "z", "1.5", "a", "-inf", "b"),
            RESPCommand("XADD", "x", "1-1", "f", "v"),
            RESPCommand("XGROUP", "CREATE", "x", "g", "0"),
        ]
        cmds.append(RESPCommand("RPUSH", arguments: ["bigl"] + (0..<3000).map { "e\($0)" }))
        cmds.append(RESPCommand("HSET", arguments: ["bigh"] + (0..<3000).flatMap { ["f\($0)", "v\($0)"] }))
        cmds.append(RESPCommand("SADD", arguments: ["bigs"] + (0..<3000).map { "m\($0)" }))
        cmds.append(RESPCommand("ZADD", arguments: ["bigz"] + (0..<3000).flatMap { ["\($0)", "m\($0)"] }))
        cmds.append(RESPCommand("SET", "bigstr", [UInt8](repeating: 7, count: 200_000)))
        for i in 0..<500 { cmds.append(RESPCommand("SET", "k:\(i)", "v\(i)")) }
        let replies = try await c.send(batch: cmds)
        for r in replies { #expect(!r.isError, "\(r)") }
    }

    static let options = CompareOptions(rounds: 1, interval: 0, chunkElements: 1000)

    @Test("identical sides give zero differences, big keys compared in chunks")
    func identical() async throws {
        try await withRedisServer { source in
            try await withRedisServer { target in
                let s = try source.client()
                let t = try target.client()
                try await Self.seed(s)
                _ = try await Migrator(source: s, target: t, targetName: target.url, options: .init()).run()
                let report = try await Comparer(source: s, target: t, options: Self.options).run()
                #expect(report.isClean, "\(report.differences)")
                #expect(report.keysChecked == 512)
                #expect(report.extraChecked == 512)
            }
        }
    }

    @Test("each planted difference is found and classified")
    func planted() async throws {
        try await withRedisServer { source in
            try await withRedisServer { target in
                let s = try source.client()
                let t = try target.client()
                try await Self.seed(s)
                _ = try await Migrator(source: s, target: t, targetName: target.url, options: .init()).run()
                _ = try await t.send(batch: [
                    RESPCommand("DEL", "k:1"),
                    RESPCommand("SET", "only-target", "x"),
                    RESPCommand("DEL", "k:2"), RESPCommand("RPUSH", "k:2", "now a list"),
                    RESPCommand("SET", "k:3", "changed"),
                    RESPCommand("HSET", "h", "b", "3"),
                    RESPCommand("LSET", "l", 1, "two"),
                    RESPCommand("SREM", "set", "x"), RESPCommand("SADD", "set", "w"),
                    RESPCommand("ZADD", "z", "2.5", "a"),
                    RESPCommand("XADD", "x", "2-1", "f", "v"),
                    RESPCommand("PEXPIRE", "s", 100_000),
                    RESPCommand("SET", [0, 0xFF, 10] as [UInt8], [0xFE, 1] as [UInt8]),
                    RESPCommand("LSET", "bigl", 2500, "changed"),
                    RESPCommand("HSET", "bigh", "f2999", "changed"),
                    RESPCommand("SREM", "bigs", "m5"), RESPCommand("SADD", "bigs", "m-new"),
                    RESPCommand("ZADD", "bigz", "0.5", "m2000"),
                    RESPCommand("SETRANGE", "bigstr", 150_000, "x"),
                ])
                let report = try await Comparer(source: s, target: t, options: Self.options).run()
                let byKey = Dictionary(uniqueKeysWithValues: report.differences.map { ($0.key, $0.kind) })
                #expect(byKey["k:1"] == .missing)
                #expect(byKey["only-target"] == .extra)
                #expect(byKey["k:2"] == .type)
                for k in ["k:3", "h", "l", "set", "z", "x", "bigl", "bigh", "bigs", "bigz", "bigstr", displayKey([0, 0xFF, 10])] {
                    #expect(byKey[k] == .value, "\(k): \(String(describing: byKey[k]))")
                }
                #expect(byKey["s"] == .expiry)
                #expect(report.differences.count == 16)
                #expect(!report.isClean)
            }
        }
    }

    @Test("a key written during the check drops out by the last round")
    func inFlight() async throws {
        try await withRedisServer { source in
            try await withRedisServer { target in
                let s = try source.client()
                let t = try target.client()
                _ = try await s.send(RESPCommand("SET", "hot", "0"))
                _ = try await t.send(RESPCommand("SET", "hot", "0"))
                _ = try await s.send(RESPCommand("SET", "hot", "1"))  // the target catches up later, as a mirror would
                let writer = Task {
                    try await Task.sleep(nanoseconds: 300_000_000)
                    for i in 1...30 {
                        _ = try await s.send(RESPCommand("SET", "hot", i))
                        try await Task.sleep(nanoseconds: 5_000_000)
                        _ = try await t.send(RESPCommand("SET", "hot", i))
                    }
                }
                // the writer is done ~0.5 s in on a quiet machine; the last round, 3 s in, leaves room for a loaded one
                let options = CompareOptions(rounds: 3, interval: 1.5)
                let report = try await Comparer(source: s, target: t, options: options).run()
                try await writer.value
                #expect(report.remainingAfterRound.first == 1)
                #expect(report.isClean)
            }
        }
    }

    @Test("--keys-out then migrate --keys-from repairs everything; a second compare is clean")
    func reconcile() async throws {
        try await withRedisServer { source in
            try await withRedisServer { target in
                let s = try source.client()
                let t = try target.client()
                try await Self.seed(s)
                _ = try await Migrator(source: s, target: t, targetName: target.url, options: .init()).run()
                _ = try await t.send(batch: [
                    RESPCommand("DEL", "k:1"), RESPCommand("SET", "only-target", "x"), RESPCommand("HSET", "bigh", "f1", "no"),
                    RESPCommand("PERSIST", "s"), RESPCommand("SET", [0, 0xFF, 10] as [UInt8], "wrong"),
                ])
                let keys = source.directory.appendingPathComponent("diff.keys").path
                let first = try runUpshift(["compare", "--source", source.url, "--target", target.url, "--rounds", "1", "--keys-out", keys])
                #expect(first.status == 1)
                #expect(first.stdout.contains("missing: 1"))
                let listed = try String(contentsOfFile: keys, encoding: .utf8).split(separator: "\n")
                #expect(listed.count == 5)
                let repair = try runUpshift(["migrate", "--source", source.url, "--target", target.url, "--keys-from", keys])
                #expect(repair.status == 0, "\(repair.stdout) \(repair.stderr)")
                let second = try runUpshift(["compare", "--source", source.url, "--target", target.url, "--rounds", "1", "--json"])
                #expect(second.status == 0, "\(second.stdout)")
                #expect(second.stdout.contains("\"counts\" : {\n\n  }") || second.stdout.contains("\"counts\" : {}"))
            }
        }
    }

    @Test("--sample states its confidence")
    func sample() async throws {
        try await withRedisServer { source in
            try await withRedisServer { target in
                let s = try source.client()
                let t = try target.client()
                try await Self.seed(s)
                _ = try await Migrator(source: s, target: t, targetName: target.url, options: .init()).run()
                let report = try await Comparer(source: s, target: t, options: CompareOptions(rounds: 1, sample: 100)).run()
                #expect(report.sampled)
                #expect(report.keysChecked == 100)
                #expect(report.confidence?.contains("95%") == true)
                #expect(report.isClean)
            }
        }
    }
}
