import RESP
import RedisClient
import TestSupport
import Testing

@Suite("Redis Cluster client against a real 3-master cluster")
struct ClusterClientTests {
    @Test("detects the cluster; batches across slots, DBSIZE, SCAN of every master, multi-key scripts split by slot")
    func routing() async throws {
        try await withRedisCluster { cluster in
            let seed = try RedisURL(cluster.url)
            #expect(try await RedisClusterClient.isCluster(seed))
            #expect(try await RedisClusterClient.isCluster(RedisURL(cluster.nodes[0].socketURL)))
            let client = try await RedisClusterClient.connect(seed: seed)
            #expect(await client.currentTopology.shards.count == 3)
            let n = 3000
            let sets = try await client.send(batch: (0..<n).map { RESPCommand("SET", "k:\($0)", [0, UInt8($0 % 256)]) })
            #expect(sets.allSatisfy { $0 == .ok })
            let gets = try await client.send(batch: (0..<n).map { RESPCommand("GET", "k:\($0)") })
            #expect(gets == (0..<n).map { .bulkString([0, UInt8($0 % 256)]) })
            #expect(try await client.send(RESPCommand("DBSIZE")) == .integer(Int64(n)))
            for node in cluster.nodes {
                let direct = try node.client()
                #expect((try await direct.send(RESPCommand("DBSIZE")).integer ?? 0) > 500, "keys are spread over the masters")
                await direct.close()
            }
            #expect(try await allKeys(client).count == n)
            #expect(try await client.send(RESPCommand("EXISTS", "k:1", "k:2", "k:3", "nope")) == .integer(3))
            // a script called with keys of many slots: split per slot, rows back in key order
            let sha = try #require(
                try await client.send(
                    RESPCommand(
                        "SCRIPT", "LOAD", "local o = {} for i, k in ipairs(KEYS) do o[i] = {k, redis.call('GET', k) or ''} end return o")
                ).bytes)
            let keys = (0..<50).map { "k:\($0 * 7)" }
            let rows = try await client.send(RESPCommand("EVALSHA", arguments: [sha, keys.count] + keys)).array ?? []
            #expect(rows.map { $0.array?.first?.text } == keys.map(Optional.some))
            await client.close()
        }
    }

    @Test("MULTI … EXEC stays on one node: atomic within a slot, CROSSSLOT across slots")
    func transactions() async throws {
        try await withRedisCluster { cluster in
            let client = try await RedisClusterClient.connect(seed: RedisURL(cluster.url))
            let batch = try await client.send(batch: [
                RESPCommand("MULTI"), RESPCommand("SET", "{acct}:a", "1"), RESPCommand("INCR", "{acct}:a"), RESPCommand("EXEC"),
            ])
            #expect(batch.last == .array([.ok, .integer(2)]))
            let viaAPI = try await client.transaction([RESPCommand("INCR", "{acct}:a"), RESPCommand("GET", "{acct}:a")])
            #expect(viaAPI == .array([.integer(3), .bulk("3")]))
            let spread = try await client.transaction([RESPCommand("SET", "{x}:1", "a"), RESPCommand("SET", "{y}:1", "b")])
            #expect(spread.isError)
            await client.close()
        }
    }

    @Test("a shard's SCAN visits only the masters owning its slots")
    func restrictedScan() async throws {
        try await withRedisCluster { cluster in
            let client = try await RedisClusterClient.connect(seed: RedisURL(cluster.url))
            _ = try await client.send(batch: (0..<900).map { RESPCommand("SET", "k:\($0)", "v") })
            for node in cluster.nodes {
                let c = try node.client()
                _ = try await c.send(RESPCommand("CONFIG", "RESETSTAT"))
                await c.close()
            }
            let first = Shard(index: 0, count: 3)!  // slots 0..<5461: exactly the first master's
            await client.restrictScan(to: first.slots)
            let keys = try await allKeys(client)
            #expect(keys == Set((0..<900).map { Array("k:\($0)".utf8) }.filter(first.contains)))
            var scanned: [Int] = []
            for node in cluster.nodes {
                let c = try node.client()
                let stats = try await c.send(RESPCommand("INFO", "commandstats")).text ?? ""
                await c.close()
                if RedisInfo.field("cmdstat_scan", in: stats) != nil { scanned.append(node.port) }
            }
            #expect(scanned.count == 1)
            await client.close()
        }
    }

    @Test("follows MOVED after a slot moves, and ASK while it is migrating")
    func redirects() async throws {
        try await withRedisCluster { cluster in
            let client = try await RedisClusterClient.connect(seed: RedisURL(cluster.url))
            let key = "{moving}:a"
            let slot = HashSlot.of(Array(key.utf8))
            #expect(try await client.send(RESPCommand("SET", key, "v1")) == .ok)
            let topology = await client.currentTopology
            let from = topology.shards[topology.shard(forSlot: slot)!].master
            let to = topology.shards.first { $0.master != from }!.master
            let source = try RedisClient(url: RedisURL("redis://127.0.0.1:\(from.port)"))
            let destination = try RedisClient(url: RedisURL("redis://127.0.0.1:\(to.port)"))
            let fromID = try #require(try await source.send(RESPCommand("CLUSTER", "MYID")).text)
            let toID = try #require(try await destination.send(RESPCommand("CLUSTER", "MYID")).text)
            // mid-migration: the key already moved, the slot not yet: the old owner answers ASK
            #expect(try await destination.send(RESPCommand("CLUSTER", "SETSLOT", slot, "IMPORTING", fromID)) == .ok)
            #expect(try await source.send(RESPCommand("CLUSTER", "SETSLOT", slot, "MIGRATING", toID)) == .ok)
            #expect(try await source.send(RESPCommand("MIGRATE", "127.0.0.1", to.port, key, 0, 5000)) == .ok)
            #expect(try await client.send(RESPCommand("GET", key)) == .bulk("v1"))
            // done: every master learns the new owner; the client's map is stale and gets MOVED
            for c in [destination, source] { #expect(try await c.send(RESPCommand("CLUSTER", "SETSLOT", slot, "NODE", toID)) == .ok) }
            for node in cluster.nodes where node.port != from.port && node.port != to.port {
                let other = try node.client()
                _ = try await other.send(RESPCommand("CLUSTER", "SETSLOT", slot, "NODE", toID))
                await other.close()
            }
            #expect(try await client.send(RESPCommand("GET", key)) == .bulk("v1"))
            #expect(try await client.send(RESPCommand("SET", key, "v2")) == .ok)
            #expect(try await destination.send(RESPCommand("GET", key)) == .bulk("v2"))
            let refreshed = await client.currentTopology
            #expect(refreshed.shards[refreshed.shard(forSlot: slot)!].master == to)
            for c in [source, destination] { await c.close() }
            await client.close()
        }
    }

    @Test("--read-from replicas: SCAN and reads go to the replicas, the masters serve none of them")
    func replicas() async throws {
        try await withRedisCluster(replicasPerMaster: 1) { cluster in
            let seed = try RedisURL(cluster.url)
            let writer = try await RedisClusterClient.connect(seed: seed)
            _ = try await writer.send(batch: (0..<1000).map { RESPCommand("SET", "r:\($0)", "v\($0)") })
            for node in cluster.nodes {  // wait until the replicas have every write
                let c = try node.client()
                _ = try await c.send(RESPCommand("WAIT", 1, 2000))
                _ = try await c.send(RESPCommand("CONFIG", "RESETSTAT"))
                await c.close()
            }
            let reader = try await RedisClusterClient.connect(seed: seed, readFrom: .replicas)
            #expect(try await allKeys(reader).count == 1000)
            let values = try await reader.send(batch: (0..<1000).map { RESPCommand("GET", "r:\($0)") })
            #expect(values == (0..<1000).map { .bulk("v\($0)") })
            var masterCalls = 0
            var replicaCalls = 0
            for node in cluster.nodes {
                let c = try node.client()
                let role = try await c.send(RESPCommand("ROLE")).array?.first?.text
                let stats = try await c.send(RESPCommand("INFO", "commandstats")).text ?? ""
                await c.close()
                let calls = ["cmdstat_scan", "cmdstat_get"].compactMap { RedisInfo.field($0, in: stats) }.count
                if role == "master" { masterCalls += calls } else { replicaCalls += calls }
            }
            #expect(masterCalls == 0)
            #expect(replicaCalls == 6)
            await reader.close()
            await writer.close()
        }
    }
}
