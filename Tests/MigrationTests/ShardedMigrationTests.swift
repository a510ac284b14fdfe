import Foundation
import RESP
import RedisClient
import TestSupport
import Testing

@Suite("migrate and compare --shard i/n: n runs cover the keyspace exactly once")
struct ShardedMigrationTests {
    /// Every type, plus keys that share {hashtags} (which must land in one shard together).
    static func seed(_ s: RedisClient) async throws {
        try await seedEveryType(s)
        _ = try await s.send(batch: (0..<3000).map { RESPCommand("SET", "k:\($0)", "v\($0)", "PX", 3_600_000 + $0) })
        _ = try await s.send(batch: (0..<200).flatMap { u in (0..<3).map { RESPCommand("SADD", "{user\(u)}:tag\($0)", "x") } })
    }

    @Test("two shards, run at once into separate targets: disjoint, their union is the unsharded copy, byte for byte")
    func disjointUnion() async throws {
        try await withRedisServer { source in
            try await withRedisServer { a in
                try await withRedisServer { b in
                    try await withRedisServer { whole in
                        let s = try source.client()
                        try await Self.seed(s)
                        let dir = source.directory.path
                        async let runA = offPool {
                            try runUpshift([
                                "migrate", "--source", source.url, "--target", a.url, "--shard", "0/2", "--checkpoint", "\(dir)/cp-0.json",
                            ])
                        }
                        async let runB = offPool {
                            try runUpshift([
                                "migrate", "--source", source.url, "--target", b.url, "--shard", "1/2", "--checkpoint", "\(dir)/cp-1.json",
                            ])
                        }
                        let (ra, rb) = try await (runA, runB)
                        let rw = try runUpshift(["migrate", "--source", source.url, "--target", whole.url])
                        for r in [ra, rb, rw] { #expect(r.status == 0, "\(r.stderr)") }
                        #expect(ra.stdout.hasPrefix("shard 0/2: "))

                        let (ta, tb, tw) = (try a.client(), try b.client(), try whole.client())
                        let keysA = try await allKeys(ta)
                        let keysB = try await allKeys(tb)
                        let all = try await allKeys(s)
                        #expect(all.count == 315 + 3000 + 600)
                        #expect(keysA.isDisjoint(with: keysB))
                        #expect(keysA.union(keysB) == all)
                        #expect(try await allKeys(tw) == all)
                        // each shard is about half, and got only its own slots
                        #expect(keysA.count > all.count / 3 && keysB.count > all.count / 3)
                        let zero = Shard(index: 0, count: 2)!
                        #expect(keysA.allSatisfy(zero.contains) && !keysB.contains(where: zero.contains))
                        for u in 0..<200 {
                            let tags = (0..<3).map { Array("{user\(u)}:tag\($0)".utf8) }
                            #expect(tags.allSatisfy(keysA.contains) || tags.allSatisfy(keysB.contains))
                        }
                        // what each shard says it wrote adds up to the unsharded run, and to the keys
                        let copied = { (r: CommandResult) in
                            Int(r.stdout.split(whereSeparator: \.isWhitespace).drop { $0 != "copied" }.dropFirst().first ?? "")
                        }
                        #expect(copied(ra) == keysA.count && copied(rb) == keysB.count && copied(rw) == all.count)
                        // values and expiry: shard targets together hold exactly what the unsharded target holds
                        for shardTarget in [ta, tb] {
                            let wrong = try await keyspaceDifferences(s, shardTarget, ttlToleranceMs: 0).filter {
                                !$0.hasPrefix("missing on target")
                            }
                            #expect(wrong.isEmpty, "\(wrong.prefix(5))")
                        }
                        #expect(try await keyspaceDifferences(s, tw, ttlToleranceMs: 0).isEmpty)
                        for c in [s, ta, tb, tw] { await c.close() }
                    }
                }
            }
        }
    }

    @Test("two shards into one target, then compare --shard per shard: clean, and together they checked every key once")
    func compareShards() async throws {
        try await withRedisServer { source in
            try await withRedisServer { target in
                let s = try source.client()
                try await Self.seed(s)
                let dir = source.directory.path
                for i in 0..<2 {
                    let r = try runUpshift([
                        "migrate", "--source", source.url, "--target", target.url, "--shard", "\(i)/2", "--checkpoint",
                        "\(dir)/cp-\(i).json",
                    ])
                    #expect(r.status == 0, "\(r.stderr)")
                }
                let t = try target.client()
                #expect(try await keyspaceDifferences(s, t, ttlToleranceMs: 0).isEmpty)
                var checked = 0
                for i in 0..<2 {
                    let r = try runUpshift([
                        "compare", "--source", source.url, "--target", target.url, "--shard", "\(i)/2", "--rounds", "1", "--json",
                    ])
                    #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
                    let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
                    #expect(json?["shard"] as? String == "\(i)/2")
                    checked += json?["keysChecked"] as? Int ?? 0
                }
                #expect(checked == 3915)
                // a shard's compare sees a difference only in its own slots
                let victim = Array("k:7".utf8)
                _ = try await t.send(RESPCommand("DEL", victim))
                let owner = Shard(index: 0, count: 2)!.contains(victim) ? 0 : 1
                let hit = try runUpshift([
                    "compare", "--source", source.url, "--target", target.url, "--shard", "\(owner)/2", "--rounds", "1",
                ])
                let miss = try runUpshift([
                    "compare", "--source", source.url, "--target", target.url, "--shard", "\(1 - owner)/2", "--rounds", "1",
                ])
                #expect(hit.status == 1 && hit.stdout.contains("missing"))
                #expect(miss.status == 0, "\(miss.stdout)")
                await s.close()
                await t.close()
            }
        }
    }

    @Test("a shard's checkpoint resumes only that shard; bad --shard is a usage error")
    func checkpointAndUsage() async throws {
        try await withRedisServer { source in
            try await withRedisServer { target in
                let s = try source.client()
                _ = try await s.send(batch: (0..<100).map { RESPCommand("SET", "k:\($0)", "v") })
                let cp = source.directory.appendingPathComponent("cp-0.json").path
                let base = ["migrate", "--source", source.url, "--target", target.url, "--checkpoint", cp]
                #expect(try runUpshift(base + ["--shard", "0/2"]).status == 0)
                let wrong = try runUpshift(base + ["--shard", "1/2", "--resume"])
                #expect(wrong.status != 0)
                #expect(wrong.stderr.contains("another run"), "\(wrong.stderr)")
                #expect(try runUpshift(base + ["--shard", "0/2", "--resume"]).status == 0)
                for bad in ["2/2", "1", "-1/2", "x/y"] {
                    let r = try runUpshift(["migrate", "--source", source.url, "--dry-run", "--shard=\(bad)"])
                    #expect(r.status == 64)
                    #expect(r.stderr.contains("--shard takes i/n"), "\(r.stderr)")
                }
                await s.close()
            }
        }
    }
}
