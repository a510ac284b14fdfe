import Foundation
import RESP
import RedisClient
import TestSupport
import Testing

@Suite("migrate and compare from a Redis Cluster source (3 masters)")
struct ClusterSourceTests {
    /// Every type across all slots, binary keys, exact expiries, {hashtag} groups and a list big enough to go in chunks.
    static func seed(_ c: any Backend) async throws {
        var commands: [RESPCommand] = (0..<2000).map { RESPCommand("SET", "s:\($0)", "v\($0)", "PX", 3_600_000 + $0) }
        commands += (0..<100).map { RESPCommand("HSET", "h:\($0)", "f", [0, 0xFF, 13, 10], "g", "\($0)") }
        commands += (0..<100).map { RESPCommand("SADD", "{team\($0 % 10)}:members:\($0)", "a", "b", [0xFE]) }
        commands += (0..<100).map { RESPCommand("ZADD", "z:\($0)", "-inf", "low", "1.5", "mid", "+inf", "high") }
        commands += (0..<50).map { RESPCommand("XADD", "x:\($0)", "1-1", "f", "v") }
        commands += (0..<50).map { RESPCommand("XGROUP", "CREATE", "x:\($0)", "readers", "0") }
        commands.append(RESPCommand("SET", [0, 0xFF, 0xC3, 0x28], [0, 1, 2]))
        commands += stride(from: 0, to: 20_000, by: 1000).map { i in
            RESPCommand("RPUSH", arguments: ["big:list"] + (i..<i + 1000).map { "item-\($0)" })
        }
        let replies = try await c.send(batch: commands)
        #expect(replies.allSatisfy { !$0.isError }, "\(replies.first(where: \.isError).map { "\($0)" } ?? "")")
    }

    @Test("migrate reads every master (the seed is just one node); compare is clean; the copy is exact")
    func migrate() async throws {
        try await withRedisCluster { cluster in
            try await withRedisServer { target in
                let source = try await RedisClusterClient.connect(seed: RedisURL(cluster.url))
                try await Self.seed(source)
                let total = 2352  // 2000 strings, 100 hashes, 100 sets, 100 zsets, 50 streams, a binary key, a big list
                let migrated = try runUpshift(["migrate", "--source", cluster.url, "--target", target.url, "--batch", "100"])
                #expect(migrated.status == 0, "\(migrated.stderr)")
                #expect(migrated.stdout.contains("\(total) keys scanned, copied \(total)"), "\(migrated.stdout)")
                let compared = try runUpshift(["compare", "--source", cluster.url, "--target", target.url, "--rounds", "1"])
                #expect(compared.status == 0, "\(compared.stdout)\(compared.stderr)")
                #expect(compared.stdout.contains("compared \(total) source keys"))
                let t = try target.client()
                let diffs = try await keyspaceDifferences(source, t, ttlToleranceMs: 0)
                #expect(diffs.isEmpty, "\(diffs.prefix(5))")
                // a key missing on the target is found, whichever master holds it
                _ = try await t.send(RESPCommand("DEL", "s:1234"))
                let stale = try runUpshift(["compare", "--source", cluster.url, "--target", target.url, "--rounds", "1"])
                #expect(stale.status == 1 && stale.stdout.contains("s:1234"))
                await source.close()
                await t.close()
            }
        }
    }

    @Test("a TLS-only cluster (tls-cluster yes): every node is reached over TLS, its certificate checked against the seed's name")
    func tlsCluster() async throws {
        let certs = try TLSCertificates()
        try await withRedisCluster(tls: certs) { cluster in
            try await withRedisServer { target in
                let seed = "rediss://localhost:\(cluster.nodes[0].port)"
                let source = try await RedisClusterClient.connect(seed: RedisURL(seed + "?tls-ca=\(certs.caFile)"))
                try await Self.seed(source)
                let args = ["--source", seed, "--tls-ca", certs.caFile, "--target", target.url]
                let migrated = try runUpshift(["migrate"] + args)
                #expect(migrated.status == 0, "\(migrated.stderr)")
                #expect(migrated.stdout.contains("copied 2352"), "\(migrated.stdout)")
                let compared = try runUpshift(["compare", "--rounds", "1"] + args)
                #expect(compared.status == 0, "\(compared.stdout)\(compared.stderr)")
                let t = try target.client()
                #expect(try await keyspaceDifferences(source, t, ttlToleranceMs: 0).isEmpty)
                await t.close()
                await source.close()
            }
        }
    }

    @Test("report on a cluster counts and scans the keys of every master, not just the seed's")
    func report() async throws {
        try await withRedisCluster { cluster in
            let source = try await RedisClusterClient.connect(seed: RedisURL(cluster.url))
            try await Self.seed(source)
            await source.close()
            let r = try runUpshift(["report", "--source", cluster.url, "--format", "json"])
            #expect(r.status == 0 || r.status == 2, "\(r.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            let census = json["census"] as? [String: Any]
            let keyspace = (json["server"] as? [String: Any])?["keyspace"] as? [[String: Any]]
            #expect(census?["keysScanned"] as? Int == 2352)
            #expect(keyspace?.first?["keys"] as? Int == 2352)
            #expect(keyspace?.first?["expires"] as? Int == 2000)
        }
    }

    @Test("a cluster copy killed mid-run resumes from its checkpoint (the cursor names the shard) and ends exact")
    func killAndResume() async throws {
        try await withRedisCluster { cluster in
            try await withRedisServer { target in
                let source = try await RedisClusterClient.connect(seed: RedisURL(cluster.url))
                for chunk in stride(from: 0, to: 12_000, by: 2000) {
                    _ = try await source.send(batch: (chunk..<chunk + 2000).map { RESPCommand("RPUSH", "q:\($0)", "a", "b") })
                }
                let checkpoint = cluster.nodes[0].directory.appendingPathComponent("cp.json").path
                let args = [
                    "migrate", "--source", cluster.url, "--target", target.url, "--checkpoint", checkpoint, "--batch", "20",
                    "--concurrency", "1",
                ]
                let p = try startUpshift(args)
                var cursor = ""
                for _ in 0..<1000 where cursor.isEmpty {
                    try await Task.sleep(nanoseconds: 5_000_000)
                    // wait until the copy has moved past the first master, so the resume starts elsewhere
                    if let data = FileManager.default.contents(atPath: checkpoint),
                        let cp = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let c = cp["cursor"] as? String,
                        c.hasPrefix("1:") || c.hasPrefix("2:")
                    {
                        cursor = c
                        kill(p.processIdentifier, SIGKILL)
                    }
                }
                var status: Int32 = 0
                waitpid(p.processIdentifier, &status, 0)
                #expect(!cursor.isEmpty, "the copy never got past the first master before it finished")
                let t = try target.client()
                let partial = try await t.send(RESPCommand("DBSIZE")).integer ?? 0
                #expect(partial > 0 && partial < 12_000, "\(partial) keys before the kill")
                let resumed = try runUpshift(args + ["--resume"])
                #expect(resumed.status == 0, "\(resumed.stderr)")
                #expect(try await keyspaceDifferences(source, t).isEmpty)
                await t.close()
                await source.close()
            }
        }
    }

    @Test("--shard on a cluster: two shards, disjoint, together the whole keyspace")
    func shards() async throws {
        try await withRedisCluster { cluster in
            try await withRedisServer { a in
                try await withRedisServer { b in
                    let source = try await RedisClusterClient.connect(seed: RedisURL(cluster.url))
                    try await Self.seed(source)
                    for (i, target) in [a, b].enumerated() {
                        let r = try runUpshift(["migrate", "--source", cluster.url, "--target", target.url, "--shard", "\(i)/2"])
                        #expect(r.status == 0, "\(r.stderr)")
                    }
                    let (ta, tb) = (try a.client(), try b.client())
                    let (keysA, keysB, all) = (try await allKeys(ta), try await allKeys(tb), try await allKeys(source))
                    #expect(keysA.isDisjoint(with: keysB))
                    #expect(keysA.union(keysB) == all)
                    for c in [ta, tb] { await c.close() }
                    await source.close()
                }
            }
        }
    }

    @Test("--read-from replicas: the masters serve no SCAN, probe or read of the copy")
    func replicas() async throws {
        try await withRedisCluster(replicasPerMaster: 1) { cluster in
            try await withRedisServer { target in
                let source = try await RedisClusterClient.connect(seed: RedisURL(cluster.url))
                try await Self.seed(source)
                for node in cluster.nodes {
                    let c = try node.client()
                    _ = try await c.send(RESPCommand("WAIT", 1, 5000))
                    _ = try await c.send(RESPCommand("CONFIG", "RESETSTAT"))
                    await c.close()
                }
                let r = try runUpshift(["migrate", "--source", cluster.url, "--target", target.url, "--read-from", "replicas"])
                #expect(r.status == 0, "\(r.stderr)")
                let reads: Set<String> = ["scan", "evalsha", "get", "hgetall", "lrange", "smembers", "zrange", "xrange", "xinfo|stream"]
                for node in cluster.nodes {
                    let c = try node.client()
                    let role = try await c.send(RESPCommand("ROLE")).array?.first?.text
                    let stats = try await c.send(RESPCommand("INFO", "commandstats")).text ?? ""
                    await c.close()
                    let used = Set(
                        stats.split(whereSeparator: \.isNewline).compactMap { line in
                            line.hasPrefix("cmdstat_") ? String(line.dropFirst(8).prefix { $0 != ":" }) : nil
                        })
                    if role == "master" {
                        #expect(used.isDisjoint(with: reads), "master \(node.port) served \(used.intersection(reads))")
                    } else {
                        #expect(used.isSuperset(of: ["scan", "evalsha", "get"]), "replica \(node.port) served only \(used)")
                    }
                }
                let t = try target.client()
                #expect(try await keyspaceDifferences(source, t, ttlToleranceMs: 0).isEmpty)
                await t.close()
                await source.close()
            }
        }
    }
}
