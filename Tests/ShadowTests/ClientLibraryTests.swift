import Foundation
import RESP
import RedisClient
import Shadow
import TestSupport
import Testing

/// A mixed workload from redis-py: pipelines, a transaction, a script by EVALSHA, pub/sub, expiry, streams.
let redisPyWorkload = """
    import redis, sys
    r = redis.Redis(port=int(sys.argv[1]))
    p = r.pipeline(transaction=False)
    for i in range(200):
        p.set(f"s:{i}", i); p.incr("counter"); p.lpush("list", i); p.hset("hash", f"f{i}", i)
        p.sadd("set", i % 17); p.zadd("zset", {f"m{i}": i})
    p.execute()
    r.set("ttl:key", "v", ex=100)
    r.expire("s:1", 500)
    r.delete("s:2")
    r.rename("s:3", "renamed")
    r.incrbyfloat("float", 1.5)
    r.xadd("stream", {"a": "1"})
    r.xadd("stream", {"b": "2"})
    with r.pipeline() as t:
        t.set("tx", 1); t.incr("tx"); t.hset("txhash", "f", "v")
        print("tx", t.execute())
    script = r.register_script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
    print("script", script(keys=["scripted"], args=[5]), script(keys=["scripted"], args=[5]))
    print("get", r.get("counter"), r.hget("hash", "f7"), r.zscore("zset", "m9"), sorted(r.smembers("set"))[:3])
    ps = r.pubsub(); ps.subscribe("chan"); print("sub", ps.get_message(timeout=2)["type"])
    redis.Redis(port=int(sys.argv[1])).publish("chan", "hello")
    print("msg", ps.get_message(timeout=2)["data"])
    """

@Suite("shadow proxy with real clients", .serialized)
struct ClientLibraryTests {
    @Test("redis-py through the proxy: replies intact, and both sides end up key-by-key identical")
    func redisPyMixedWorkload() async throws {
        let rig = try await ShadowRig()
        defer { rig.stop() }
        let script = rig.directory.appendingPathComponent("workload.py").path
        try redisPyWorkload.write(toFile: script, atomically: true, encoding: .utf8)
        let result = try runProgram(try which("python3"), [script, "\(rig.port)"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("tx [True, 2, 1]"))
        #expect(result.stdout.contains("script 5 10"))
        #expect(result.stdout.contains("get b'200' b'7' 9.0 [b'0', b'1', b'10']"))
        #expect(result.stdout.contains("sub subscribe"))
        #expect(result.stdout.contains("msg b'hello'"))
        let summary = await rig.shutdown()
        let records = try rig.records()
        #expect(summary.metrics.mismatches[.diff] == nil, "\(records)")
        #expect(summary.metrics.commandsMirrored > 1000)
        #expect(summary.metrics.incompatible["SUBSCRIBE"] == 1)
        let differences = try await keyspaceDifferences(try rig.primary.client(), try rig.target.client(), ttlToleranceMs: 1000)
        #expect(differences.isEmpty, "\(differences)")
    }

    @Test("redis-cli through the proxy: commands, a piped transaction (with COMMAND DOCS first), pipe mode")
    func redisCli() async throws {
        let rig = try await ShadowRig()
        defer { rig.stop() }
        let cli = try which("redis-cli")
        let port = "\(rig.port)"
        #expect(try runProgram(cli, ["-p", port, "SET", "greeting", "hello"]).stdout == "OK\n")
        #expect(try runProgram(cli, ["-p", port, "APPEND", "greeting", " world"]).stdout == "11\n")
        #expect(try runProgram(cli, ["-p", port, "GET", "greeting"]).stdout == "hello world\n")
        let tx = try runProgram(cli, ["-p", port], stdin: "MULTI\nSET n 7\nINCR n\nEXEC\n")
        #expect(tx.stdout == "OK\nQUEUED\nQUEUED\nOK\n8\n", "\(tx.stderr)")
        var pipe = ""
        for i in 0..<500 { pipe += "*3\r\n$5\r\nRPUSH\r\n$5\r\nqueue\r\n$\(String(i).utf8.count)\r\n\(i)\r\n" }
        let piped = try runProgram(cli, ["-p", port, "--pipe"], stdin: pipe)
        #expect(piped.stdout.contains("errors: 0, replies: 500"), "\(piped.stdout) \(piped.stderr)")
        let summary = await rig.shutdown()
        #expect(summary.metrics.mismatches[.diff] == nil)
        let target = try rig.target.client()
        #expect(try await target.send(RESPCommand("GET", "greeting")) == .bulk("hello world"))
        #expect(try await target.send(RESPCommand("LLEN", "queue")) == .integer(500))
        await target.close()
    }

    @Test("dual-write: when the client has its reply, the mirror side has the write too")
    func dualWrite() async throws {
        let rig = try await ShadowRig(mode: .dualWrite)
        defer { rig.stop() }
        let client = try rig.client()
        let target = try rig.target.client()
        for i in 0..<50 {
            #expect(try await client.send(RESPCommand("SET", "dw:\(i)", "v\(i)")) == .ok)
            #expect(try await target.send(RESPCommand("GET", "dw:\(i)")) == .bulk("v\(i)"))
        }
        let replies = try await client.send(batch: (0..<20).map { RESPCommand("INCR", "dw:counter\($0 % 3)") })
        let counts: [Int64?] = replies.map(\.integer)
        let expected: [Int64?] = (0..<20).map { Int64($0 / 3 + 1) }
        #expect(counts == expected)
        await client.close()
        await target.close()
        let summary = await rig.shutdown()
        #expect(summary.metrics.mismatches.isEmpty)
    }
}
