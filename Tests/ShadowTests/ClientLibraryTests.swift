import Foundation
import RESP
import RedisClient
import Shadow
import TestSupport
import Testing

/// A mixed workload from redis-py: the REST-compatible workload plus pub/sub.
let redisPyWorkload =
    restWorkload + "\n"
        + """
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

    @Test("a SUBSCRIBE the server refuses leaves the connection mirrored, not in pass-through")
    func refusedSubscribe() async throws {
        let rig = try await ShadowRig()
        defer { rig.stop() }
        let client = try rig.client()
        let replies = try await client.send(batch: [RESPCommand("SUBSCRIBE"), RESPCommand("SET", "after", "v")])
        #expect(replies[0].isError)
        #expect(replies[1] == .ok)
        await client.close()
        _ = await rig.shutdown()
        let target = try rig.target.client()
        #expect(try await target.send(RESPCommand("GET", "after")) == .bulk("v"))
        await target.close()
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
        // read after the shutdown: sessions report their counts in batches, the last one as they close
        let text = rig.proxy.metrics.prometheusText()
        #expect(summary.metrics.mismatches[.diff] == nil)
        // every client read's round trip to the primary is timed (the 500 piped commands arrive in one or a few reads)
        #expect(summary.metrics.primaryLatency.count >= 5)
        #expect(summary.metrics.mirrorLatency.count >= 1)
        #expect(text.contains("upshift_shadow_primary_latency_seconds_count \(summary.metrics.primaryLatency.count)"))
        #expect(text.contains("upshift_shadow_mirror_lag_seconds_bucket{le=\"+Inf\"}"))
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

    @Test("redis-benchmark: 50 pipelining clients INCR one key; the mirror sees them in another order, which is a race, never a diff")
    func concurrentIncrementsAreRaces() async throws {
        let rig = try await ShadowRig(readSample: 0)
        defer { rig.stop() }
        let run = try runProgram(
            try which("redis-benchmark"), ["-p", "\(rig.port)", "-t", "incr,lpush", "-c", "50", "-n", "20000", "-P", "16", "-q"])
        #expect(run.status == 0, "\(run.stderr)")
        let summary = await rig.shutdown()
        #expect(summary.metrics.mismatches[.diff] == nil, "\(summary.metrics.mismatches)")
        #expect((summary.metrics.mismatches[.race] ?? 0) > 0, "the replies did differ: counters were reordered")
        let primary = try rig.primary.client()
        let target = try rig.target.client()
        #expect(try await primary.send(RESPCommand("GET", "counter:__rand_int__")) == .bulk("20000"))
        #expect(try await target.send(RESPCommand("GET", "counter:__rand_int__")) == .bulk("20000"))
        await primary.close()
        await target.close()
    }
}
