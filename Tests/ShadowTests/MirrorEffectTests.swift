import Foundation
import RESP
import RedisClient
import Shadow
import TestSupport
import Testing

/// The mirror ends with what the primary did, for commands whose replay would do something else.
@Suite("mirroring what the primary did", .serialized)
struct MirrorEffectTests {
    @Test("200 INCRs through EVAL and through FCALL mirror 200, at a 10% read sample")
    func scriptsAreWrites() async throws {
        let rig = try await ShadowRig(readSample: 0.1)
        defer { rig.stop() }
        let result = try rig.python(
            """
            import redis, sys
            r = redis.Redis(port=int(sys.argv[1]))
            for _ in range(200): r.eval("return redis.call('INCR', KEYS[1])", 1, "by-eval")
            sha = r.script_load("return redis.call('INCR', KEYS[1])")
            for _ in range(200): r.evalsha(sha, 1, "by-evalsha")
            r.function_load("#!lua name=lib\\nredis.register_function('inc', function(keys) return redis.call('INCR', keys[1]) end)")
            for _ in range(200): r.fcall("inc", 1, "by-fcall")
            for _ in range(50): r.eval("#!lua flags=no-writes\\nreturn redis.call('GET', KEYS[1])", 1, "by-eval")
            print("done", r.get("by-eval"), r.get("by-fcall"))
            """)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("done b'200' b'200'"))
        let summary = await rig.shutdown()
        let records = try rig.records()
        #expect(summary.metrics.mismatches[.diff] == nil, "\(records)")
        let target = try rig.target.client()
        for key in ["by-eval", "by-evalsha", "by-fcall"] {
            #expect(try await target.send(RESPCommand("GET", key)) == .bulk("200"), "\(key)")
        }
        await target.close()
    }

    @Test("a BLPOP, BRPOPLPUSH, BLMOVE, BZPOPMIN and XREADGROUP consumer leaves both sides identical")
    func blockingConsumers() async throws {
        let rig = try await ShadowRig(readSample: 0)
        defer { rig.stop() }
        let result = try rig.python(
            """
            import redis, sys, threading, time
            port = int(sys.argv[1])
            consumer = redis.Redis(port=port)
            producer = redis.Redis(port=port)
            consumer.xgroup_create("stream", "workers", id="0", mkstream=True)
            got = []
            def consume():
                for _ in range(10):
                    got.append(consumer.blpop(["jobs"], 5))
                    got.append(consumer.brpoplpush("src", "dst", 5))
                    got.append(consumer.blmove("dst", "done", 5, "LEFT", "RIGHT"))
                    got.append(consumer.bzpopmin(["ranked"], 5))
                    got.append(consumer.xreadgroup("workers", "c1", {"stream": ">"}, count=1, block=5000))
            t = threading.Thread(target=consume); t.start()
            for i in range(10):
                time.sleep(0.01)
                producer.rpush("jobs", f"job{i}", f"spare{i}")
                producer.lpush("src", f"item{i}")
                producer.zadd("ranked", {f"m{i}": i, f"n{i}": 100 + i})
                producer.xadd("stream", {"n": i})
            t.join()
            print("consumed", sum(1 for g in got if g))
            """)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("consumed 50"), "\(result.stdout)")
        let summary = await rig.shutdown()
        let records = try rig.records()
        #expect(summary.metrics.mismatches[.diff] == nil, "\(records)")
        #expect(summary.metrics.incompatible["BLPOP"] == 10, "still counted as what Upstash does not serve over REST")
        let differences = try await keyspaceDifferences(try rig.primary.client(), try rig.target.client())
        #expect(differences.isEmpty, "\(differences)")
    }

    @Test("SPOP leaves both sides identical (the mirror removes the members the primary returned)")
    func spop() async throws {
        let rig = try await ShadowRig(readSample: 0)
        defer { rig.stop() }
        let result = try rig.python(
            """
            import redis, sys
            r = redis.Redis(port=int(sys.argv[1]))
            r.sadd("pool", *range(100))
            popped = [r.spop("pool") for _ in range(10)] + r.spop("pool", 20)
            print("popped", len(popped), r.scard("pool"))
            """)
        #expect(result.stdout.contains("popped 30 70"), "\(result.stdout) \(result.stderr)")
        _ = await rig.shutdown()
        let differences = try await keyspaceDifferences(try rig.primary.client(), try rig.target.client())
        #expect(differences.isEmpty, "\(differences)")
    }

    @Test("a relative expiry reaches the mirror as the primary's absolute time, however late the mirror runs it")
    func absoluteExpiry() async throws {
        let rig = try await ShadowRig(readSample: 0, mirrorTimeoutMs: 3000)
        defer { rig.stop() }
        let client = try rig.client()
        rig.target.pause()
        #expect(try await client.send(RESPCommand("SET", "session", "s", "EX", 100)) == .ok)
        #expect(try await client.send(RESPCommand("SETEX", "token", 100, "t")) == .ok)
        #expect(try await client.send(RESPCommand("SET", "plain", "p")) == .ok)
        #expect(try await client.send(RESPCommand("EXPIRE", "plain", 100)) == .integer(1))
        try await Task.sleep(nanoseconds: 600_000_000)
        rig.target.resume()
        await client.close()
        _ = await rig.shutdown()
        let primary = try rig.primary.client()
        let target = try rig.target.client()
        for key in ["session", "token", "plain"] {
            let p = try await primary.send(RESPCommand("PEXPIRETIME", key)).integer ?? -1
            let t = try await target.send(RESPCommand("PEXPIRETIME", key)).integer ?? -1
            // relative, the mirror's would be 600 ms later
            #expect(p > 0 && abs(p - t) < 150, "\(key): \(p) vs \(t)")
        }
        await primary.close()
        await target.close()
    }

    @Test("writes in db 3 are mirrored under --db-prefix; writes in db 4 (no prefix) are recorded, not dropped")
    func databases() async throws {
        let rig = try await ShadowRig(readSample: 1) { $0.databases = DatabaseMapping(prefixes: [3: Array("db3:".utf8)]) }
        defer { rig.stop() }
        let result = try rig.python(
            """
            import redis, sys
            port = int(sys.argv[1])
            three = redis.Redis(port=port, db=3)
            three.set("user:1", "ada"); three.hset("h", "f", "v"); three.incr("n"); three.mset({"a": 1, "b": 2}); three.get("user:1")
            redis.Redis(port=port, db=4).set("lost:1", "x")
            redis.Redis(port=port).set("home", "h")
            print("ok")
            """)
        #expect(result.status == 0, "\(result.stderr)")
        let summary = await rig.shutdown()
        let records = try rig.records()
        #expect(summary.metrics.mismatches[.diff] == nil, "\(records)")
        let target = try rig.target.client()
        #expect(try await target.send(RESPCommand("GET", "db3:user:1")) == .bulk("ada"))
        #expect(try await target.send(RESPCommand("HGET", "db3:h", "f")) == .bulk("v"))
        #expect(try await target.send(RESPCommand("MGET", "db3:a", "db3:b", "db3:n")) == .array([.bulk("1"), .bulk("2"), .bulk("1")]))
        #expect(try await target.send(RESPCommand("GET", "home")) == .bulk("h"))
        #expect(try await target.send(RESPCommand("EXISTS", "lost:1")) == .integer(0))
        await target.close()
        let unmirrored = records.filter { $0["class"] as? String == "not-mirrored" }
        #expect(unmirrored.count == 1, "\(unmirrored)")
        #expect(unmirrored.first?["keys"] as? [String] == ["lost:1"])
        #expect(summary.metrics.mismatches[.notMirrored] == 1)
    }

    @Test("a mirror stuck in a script (BUSY) is sent SCRIPT KILL, and the writes it refused arrive")
    func stuckMirrorRecovers() async throws {
        let rig = try await ShadowRig(readSample: 0, mirrorTimeoutMs: 1500)
        defer { rig.stop() }
        let direct = try rig.target.client()
        #expect(try await direct.send(RESPCommand("CONFIG", "SET", "busy-reply-threshold", 100)) == .ok)
        await direct.close()
        // A script that never ends, run on the mirror by someone else: it answers BUSY to all after 100 ms.
        let hog = RawSocket.connect(port: rig.target.port).map { fd -> Int32 in
            RawSocket.send(fd, Array("*3\r\n$4\r\nEVAL\r\n$17\r\nwhile true do end\r\n$1\r\n0\r\n".utf8))
            return fd
        }
        defer { if let hog { close(hog) } }
        try await Task.sleep(nanoseconds: 200_000_000)
        let client = try rig.client()
        let started = Date()
        for i in 0..<20 { #expect(try await client.send(RESPCommand("SET", "k:\(i)", "\(i)")) == .ok) }
        #expect(Date().timeIntervalSince(started) < 1, "the primary's clients are never held by the mirror")
        await client.close()
        let summary = await rig.shutdown()
        #expect(summary.metrics.mirrorRecoveries >= 1)
        let target = try rig.target.client()
        for i in 0..<20 { #expect(try await target.send(RESPCommand("GET", "k:\(i)")) == .bulk("\(i)")) }
        await target.close()
    }

    @Test("a script the primary's SCRIPT KILL stopped is not run on the mirror (which would stay BUSY)")
    func killedScriptIsNotReplayed() async throws {
        // Every read mirrored too: the script must stay off the mirror whatever it is taken for.
        let rig = try await ShadowRig(readSample: 1)
        defer { rig.stop() }
        let admin = try rig.primary.client()
        #expect(try await admin.send(RESPCommand("CONFIG", "SET", "busy-reply-threshold", 100)) == .ok)
        await admin.close()
        // Through the proxy: a script that never ends, then SCRIPT KILL from another connection.
        guard let looping = RawSocket.connect(port: rig.port) else { throw TestSupportError("cannot connect") }
        defer { close(looping) }
        RawSocket.send(looping, Array("*3\r\n$4\r\nEVAL\r\n$17\r\nwhile true do end\r\n$1\r\n0\r\n".utf8))
        try await Task.sleep(nanoseconds: 300_000_000)
        let killer = try rig.client()
        #expect(try await killer.send(RESPCommand("SCRIPT", "KILL")) == .ok)
        var reply = [UInt8](repeating: 0, count: 512)
        let n = reply.withUnsafeMutableBytes { recv(looping, $0.baseAddress, $0.count, 0) }
        #expect(n > 0 && String(decoding: reply[0..<max(0, n)], as: UTF8.self).contains("killed by user"))
        #expect(try await killer.send(RESPCommand("SET", "after", "kill")) == .ok)
        await killer.close()
        let summary = await rig.shutdown()
        #expect(summary.metrics.mirrorRecoveries == 0, "the mirror never had to be rescued")
        let target = try rig.target.client()
        #expect(try await target.send(RESPCommand("GET", "after")) == .bulk("kill"))
        #expect(try await target.send(RESPCommand("PING")) == .simpleString(Array("PONG".utf8)), "the mirror is not busy")
        await target.close()
    }
}
