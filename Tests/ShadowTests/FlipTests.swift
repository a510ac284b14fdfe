import Foundation
import Logging
import RESP
import RedisClient
import Shadow
import TestSupport
import Testing
import UpstashClient

/// A Redis (today's primary), a gateway standing in for Upstash in front of a second Redis, and a
/// proxy between them: mirroring to Upstash over REST, or flipped so that Upstash answers.
final class RESTRig: @unchecked Sendable {
    let redis: RedisServer
    let upstashRedis: RedisServer
    let gateway: GatewayProcess
    let upstash: UpstashClient
    let rollback: RedisClient
    let proxy: ShadowProxy
    let directory: URL

    var port: Int { proxy.port }
    var logPath: String { directory.appendingPathComponent("mismatches.jsonl").path }

    init(flipped: Bool, mode: ShadowConfiguration.Mode = .shadow, password: String? = nil) async throws {
        let redis = try await RedisServer(arguments: password.map { ["--requirepass", $0] } ?? [])
        self.redis = redis
        upstashRedis = try await RedisServer()
        gateway = try GatewayProcess(redis: upstashRedis)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("upshift-flip-\(UUID().uuidString)")
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var options = UpstashClientOptions()
        options.retry = .never
        upstash = try UpstashClient(url: gateway.url, token: gateway.token, options: options)
        let primaryURL = try RedisURL(password.map { "redis://:\($0)@127.0.0.1:\(redis.port)" } ?? redis.url)
        rollback = RedisClient(url: primaryURL, connections: 4)
        let config = ShadowConfiguration(
            host: "127.0.0.1", port: 0, primary: primaryURL, mode: mode, readSample: 1,
            mismatchLogPath: directory.appendingPathComponent("mismatches.jsonl").path,
            keysOutPath: directory.appendingPathComponent("divergent.keys").path, drainDeadline: .seconds(5))
        var logger = Logger(label: "test.flip")
        logger.logLevel = .warning
        if flipped {
            proxy = try await ShadowProxy.start(config, mirror: rollback, answeringFrom: .upstash(upstash), logger: logger)
        } else {
            proxy = try await ShadowProxy.start(config, mirror: upstash, logger: logger)
        }
    }

    func shutdown() async -> ShadowSummary {
        let summary = await proxy.shutdown()
        await upstash.close()
        await rollback.close()
        return summary
    }

    func stop() {
        gateway.stop()
        redis.stop()
        upstashRedis.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    func runPython(_ source: String, _ arguments: [String] = []) throws -> ProgramResult {
        let script = directory.appendingPathComponent("app-\(UUID().uuidString).py").path
        try source.write(toFile: script, atomically: true, encoding: .utf8)
        return try runProgram(try which("python3"), [script, "\(port)"] + arguments)
    }

    func records() throws -> [[String: Any]] { try mismatchRecords(at: logPath) }
}

/// What an app does against Upstash: everything but subscribing (which Upstash serves only as SSE).
/// Arguments: the proxy's port, and the password when the app logs in.
let restWorkload = """
    import redis, sys
    r = redis.Redis(port=int(sys.argv[1]), password=sys.argv[2] if len(sys.argv) > 2 else None)
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
    r.set(b"bin:\\xff\\x00", b"\\x00\\x01\\xfe\\xff")
    print("bin", r.get(b"bin:\\xff\\x00") == b"\\x00\\x01\\xfe\\xff")
    with r.pipeline() as t:
        t.set("tx", 1); t.incr("tx"); t.hset("txhash", "f", "v")
        print("tx", t.execute())
    script = r.register_script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
    print("script", script(keys=["scripted"], args=[5]), script(keys=["scripted"], args=[5]))
    print("get", r.get("counter"), r.hget("hash", "f7"), r.zscore("zset", "m9"), sorted(r.smembers("set"))[:3])
    print("publish", r.publish("chan", "hello"))
    """

@Suite("shadow proxy with Upstash over REST: mirroring to it, and the flip", .serialized)
struct FlipTests {
    @Test("redis-py through the proxy mirroring to the gateway: both sides end up key-by-key identical")
    func mirrorToREST() async throws {
        let rig = try await RESTRig(flipped: false)
        defer { rig.stop() }
        let result = try rig.runPython(restWorkload)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("tx [True, 2, 1]"), "\(result.stdout)")
        #expect(result.stdout.contains("bin True"))
        let summary = await rig.shutdown()
        let records = try rig.records()
        #expect(summary.metrics.mismatches[.diff] == nil, "\(records)")
        let differences = try await keyspaceDifferences(try rig.redis.client(), try rig.upstashRedis.client(), ttlToleranceMs: 1000)
        #expect(differences.isEmpty, "\(differences)")
    }

    @Test("the flip: Upstash answers redis-py (the app's password still works) and the old Redis keeps every write")
    func flipServesFromUpstash() async throws {
        let rig = try await RESTRig(flipped: true, password: "app-secret")
        defer { rig.stop() }
        let result = try rig.runPython(restWorkload, ["app-secret"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("bin True"), "\(result.stdout)")
        #expect(result.stdout.contains("tx [True, 2, 1]"))
        #expect(result.stdout.contains("script 5 10"))
        #expect(result.stdout.contains("get b'200' b'7' 9.0 [b'0', b'1', b'10']"))
        // A wrong password is refused as Redis would, and nothing of it reaches the output.
        let wrong = try rig.runPython("import redis, sys\nredis.Redis(port=int(sys.argv[1]), password='nope').ping()\n")
        #expect(wrong.status != 0)
        #expect(wrong.stderr.contains("invalid username-password pair"))
        #expect(!wrong.stderr.contains("app-secret"))
        let summary = await rig.shutdown()
        let records = try rig.records()
        #expect(summary.metrics.mismatches[.diff] == nil, "\(records)")
        #expect(summary.metrics.commandsMirrored > 1000)
        let rendered = summary.render(primary: rig.redis.url, flipped: true)
        #expect(!rendered.contains("app-secret"))
        let differences = try await keyspaceDifferences(
            try rig.redis.client("redis://:app-secret@127.0.0.1:\(rig.redis.port)"), try rig.upstashRedis.client(), ttlToleranceMs: 1000)
        #expect(differences.isEmpty, "\(differences)")
    }

    @Test("after the flip the reply is Upstash's, and a key changed on the old Redis is a diff record naming it")
    func flipRepliesFromUpstash() async throws {
        let rig = try await RESTRig(flipped: true)
        defer { rig.stop() }
        let upstashSide = try rig.upstashRedis.client()
        let oldSide = try rig.redis.client()
        _ = try await upstashSide.send(RESPCommand("SET", "where", "upstash"))
        _ = try await oldSide.send(RESPCommand("SET", "where", "redis"))
        let client = RedisClient(url: try RedisURL("redis://127.0.0.1:\(rig.port)"))
        #expect(try await client.send(RESPCommand("GET", "where")) == .bulk("upstash"))
        #expect(try await client.send(RESPCommand("SET", "k", "v")) == .ok)
        await client.close()
        let summary = await rig.shutdown()
        #expect(summary.metrics.mismatches[.diff] == 1)
        let diff = try rig.records().first { $0["class"] as? String == "diff" }
        #expect(diff?["keys"] as? [String] == ["where"])
        #expect(try await oldSide.send(RESPCommand("GET", "k")) == .bulk("v"))
        await upstashSide.close()
        await oldSide.close()
    }

    @Test(
        "after the flip, SUBSCRIBE and PSUBSCRIBE are bridged to Upstash's subscription streams: every message arrives, PING and refusals as Redis answers them, and a client gone frees its streams"
    )
    func flipBridgesSubscribe() async throws {
        let rig = try await RESTRig(flipped: true)
        defer { rig.stop() }
        let app = try rig.runPython(
            """
            import redis, socket, sys, time
            port = int(sys.argv[1])
            r = redis.Redis(port=port)
            p = r.pubsub()
            p.subscribe("news", "a,b")
            p.psubscribe("ev:*")
            confirms = [p.get_message(timeout=5) for _ in range(3)]
            print("confirms", [(m["type"], m["channel"], m["data"]) for m in confirms])
            pub = redis.Redis(port=port)
            print("published", pub.publish("news", "hello, world"), pub.publish("ev:1", b"\\x00\\x01\\xff"), pub.publish("a,b", "x,y"))
            got, deadline = [], time.time() + 10
            while len(got) < 3 and time.time() < deadline:
                m = p.get_message(timeout=1)
                if m: got.append((m["type"], m["pattern"], m["channel"], m["data"]))
            print("messages", sorted(got, key=repr))
            p.unsubscribe("news")
            print("unsubscribed", p.get_message(timeout=5)["data"])
            p.close()
            s = socket.create_connection(("127.0.0.1", port))
            def ask(line, expect):
                s.sendall(line)
                data = b""
                while data.count(b"\\r\\n") < expect: data += s.recv(4096)
                return data
            print("raw", [ask(b"SUBSCRIBE c\\r\\n", 3), ask(b"GET k\\r\\n", 1), ask(b"PING\\r\\n", 5),
                          ask(b"UNSUBSCRIBE\\r\\n", 5), ask(b"GET k\\r\\n", 1)])
            s.close()
            """)
        #expect(app.status == 0, "\(app.stderr)")
        let lines = app.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 5, "\(app.stdout) \(app.stderr)")
        #expect(
            lines.first == "confirms [('subscribe', b'news', 1), ('subscribe', b'a,b', 2), ('psubscribe', b'ev:*', 3)]", "\(app.stdout)")
        #expect(lines.dropFirst().first == "published 1 1 1", "\(app.stdout)")
        #expect(
            lines.dropFirst(2).first
                == "messages [('message', None, b'a,b', b'x,y'), ('message', None, b'news', b'hello, world'), ('pmessage', b'ev:*', b'ev:1', b'\\x00\\x01\\xff')]",
            "\(app.stdout)")
        #expect(lines.dropFirst(3).first == "unsubscribed 2", "\(app.stdout)")
        #expect(
            lines.dropFirst(4).first
                == "raw [b'*3\\r\\n$9\\r\\nsubscribe\\r\\n$1\\r\\nc\\r\\n:1\\r\\n', b\"-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\\r\\n\", b'*2\\r\\n$4\\r\\npong\\r\\n$0\\r\\n\\r\\n', b'*3\\r\\n$11\\r\\nunsubscribe\\r\\n$1\\r\\nc\\r\\n:0\\r\\n', b'$-1\\r\\n']",
            "\(app.stdout)")
        // every stream closed with its client: the Redis behind Upstash holds no subscriber any more
        let upstashSide = try rig.upstashRedis.client()
        var subscribers = -1
        for _ in 0..<50 {
            let channels = try await upstashSide.send(RESPCommand("PUBSUB", "NUMSUB", "news", "a,b", "c"))
            let patterns = try await upstashSide.send(RESPCommand("PUBSUB", "NUMPAT"))
            subscribers =
                (channels.array ?? []).enumerated().filter { $0.offset % 2 == 1 }.reduce(0) { $0 + Int($1.element.integer ?? 0) }
                + Int(patterns.integer ?? 0)
            if subscribers == 0 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(subscribers == 0)
        await upstashSide.close()
        _ = await rig.shutdown()
    }

    @Test("after the flip: transactions, refusals and connection state answered the way a Redis client expects")
    func flipConnectionState() async throws {
        let rig = try await RESTRig(flipped: true)
        defer { rig.stop() }
        let cli = try which("redis-cli")
        let port = "\(rig.port)"
        let tx = try runProgram(cli, ["-p", port], stdin: "MULTI\nSET n 7\nINCR n\nEXEC\nGET n\n")
        #expect(tx.stdout == "OK\nQUEUED\nQUEUED\nOK\n8\n8\n", "\(tx.stderr)")
        let refused = try runProgram(cli, ["-p", port], stdin: "BLPOP q 1\nSELECT 3\nSELECT 0\nWATCH n\nPING\n")
        let lines = refused.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 5, "\(refused.stdout)")
        #expect(lines[0].contains("BLPOP is not served by Upstash over REST"))
        #expect(lines[1].contains("single database 0"))
        #expect(lines[2] == "OK")
        #expect(lines[3].contains("WATCH is not served"))
        #expect(lines[4] == "PONG")
        var pipe = ""
        for i in 0..<500 { pipe += "*3\r\n$5\r\nRPUSH\r\n$5\r\nqueue\r\n$\(String(i).utf8.count)\r\n\(i)\r\n" }
        let piped = try runProgram(cli, ["-p", port, "--pipe"], stdin: pipe)
        #expect(piped.stdout.contains("errors: 0, replies: 500"), "\(piped.stdout) \(piped.stderr)")
        let summary = await rig.shutdown()
        #expect(summary.metrics.incompatible["BLPOP"] == 1)
        #expect(summary.metrics.primaryLatency.count > 0, "Upstash's round trips are timed as the primary's")
        let upstashSide = try rig.upstashRedis.client()
        let oldSide = try rig.redis.client()
        let oldQueue = try await oldSide.send(RESPCommand("LRANGE", "queue", "0", "-1"))
        #expect(try await upstashSide.send(RESPCommand("LRANGE", "queue", "0", "-1")) == oldQueue)
        #expect(try await upstashSide.send(RESPCommand("LLEN", "queue")) == .integer(500))
        await upstashSide.close()
        await oldSide.close()
    }

    @Test("after the flip, with the old Redis down, Upstash still answers and the records say shadow-unavailable")
    func flipRollbackSideDown() async throws {
        let rig = try await RESTRig(flipped: true)
        defer { rig.stop() }
        rig.redis.stop()
        let client = RedisClient(url: try RedisURL("redis://127.0.0.1:\(rig.port)"))
        for i in 0..<20 { #expect(try await client.send(RESPCommand("SET", "k\(i)", "v")) == .ok) }
        #expect(try await client.send(RESPCommand("GET", "k7")) == .bulk("v"))
        await client.close()
        let summary = await rig.shutdown()
        #expect((summary.metrics.mismatches[.shadowUnavailable] ?? 0) > 0)
        #expect(summary.metrics.mismatches[.diff] == nil)
        #expect(summary.divergentKeys >= 20, "writes the rollback side missed are listed")
    }

    @Test("after the flip, with Upstash down, clients get an error reply at once, not a hang")
    func flipUpstashDown() async throws {
        let rig = try await RESTRig(flipped: true)
        defer { rig.stop() }
        rig.gateway.stop()
        let client = RedisClient(url: try RedisURL("redis://127.0.0.1:\(rig.port)"))
        let reply = try await client.send(RESPCommand("SET", "k", "v"))
        #expect(reply.text?.hasPrefix("ERR upshift: Upstash did not answer") == true, "\(reply)")
        #expect(try await client.send(RESPCommand("SELECT", "0")) == .ok)
        await client.close()
        _ = await rig.shutdown()
    }
}
