import Foundation
import Logging
import RESP
import RedisClient
import Shadow
import TestSupport
import Testing

/// An app on a Redis Cluster: keys spread over every master, a transaction on one hash tag.
let clusterWorkload = """
    import redis, sys
    r = redis.Redis(port=int(sys.argv[1]))
    p = r.pipeline(transaction=False)
    for i in range(300):
        p.set(f"s:{i}", i); p.incr(f"counter:{i % 7}"); p.hset(f"h:{i % 11}", f"f{i}", i); p.lpush(f"l:{i % 5}", i)
    p.execute()
    r.set("ttl:key", "v", ex=100)
    with r.pipeline() as t:
        t.set("{user:1}:name", "ada"); t.incr("{user:1}:visits"); t.hset("{user:1}:profile", "lang", "swift")
        print("tx", t.execute())
    print("get", r.get("s:42"), r.get("counter:3"), r.hget("h:5", "f16"), r.zscore("nope", "x"))
    try:
        r.blpop("queue", 1)
    except redis.ResponseError as e:
        print("blpop refused", "connection of its own" in str(e))
    """

@Suite("shadow proxy with a Redis Cluster as primary", .serialized)
struct ClusterPrimaryTests {
    @Test("redis-py through the proxy to a 3-master cluster: replies from the cluster, and the mirror ends up identical")
    func clusterPrimary() async throws {
        let cluster = try await RedisCluster(masters: 3)
        defer { cluster.stop() }
        let target = try await RedisServer()
        defer { target.stop() }
        let seed = try RedisURL(cluster.url)
        let answering = try await RedisClusterClient.connect(seed: seed, connections: 2)
        let mirror = RedisClient(url: try RedisURL(target.url), connections: 2)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("upshift-cluster-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = directory.appendingPathComponent("mismatches.jsonl").path
        var logger = Logger(label: "test.cluster-primary")
        logger.logLevel = .warning
        let proxy = try await ShadowProxy.start(
            ShadowConfiguration(host: "127.0.0.1", port: 0, primary: seed, readSample: 1, mismatchLogPath: log), mirror: mirror,
            answeringFrom: .cluster(answering), logger: logger)
        let script = directory.appendingPathComponent("app.py").path
        try clusterWorkload.write(toFile: script, atomically: true, encoding: .utf8)
        let result = try runProgram(try which("python3"), [script, "\(proxy.port)"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("tx [True, 1, 1]"), "\(result.stdout)")
        #expect(result.stdout.contains("get b'42' b'43' b'16' None"))
        #expect(result.stdout.contains("blpop refused True"))
        let summary = await proxy.shutdown()
        let records = try mismatchRecords(at: log)
        #expect(summary.metrics.mismatches[.diff] == nil, "\(records)")
        #expect(summary.metrics.commandsMirrored > 1000)
        // every master holds part of the keyspace, and the mirror holds all of it
        for node in try await cluster.nodes(role: "master") {
            let c = try node.client()
            #expect((try await c.send(RESPCommand("DBSIZE")).integer ?? 0) > 50)
            await c.close()
        }
        let differences = try await keyspaceDifferences(answering, mirror, ttlToleranceMs: 1000)
        #expect(differences.isEmpty, "\(differences)")
        await answering.close()
        await mirror.close()
    }
}
