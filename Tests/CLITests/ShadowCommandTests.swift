import Foundation
import RESP
import RedisClient
import TestSupport
import Testing

/// `upshift shadow` started as a process; stopped with SIGINT (its graceful path) by `stop()`.
private final class ShadowProcess {
    let process = Process()
    let port: Int
    private let errors = Pipe()

    init(_ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: try upshiftBinary())
        process.arguments = ["shadow", "--listen", "127.0.0.1:0"] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = errors
        try process.run()
        reapWhenTestsDie(process.processIdentifier)
        let (found, seen) = announcedPort(out, of: process, after: "shadow listening on 127.0.0.1:", then: "\n")
        guard let found else {
            process.terminate()
            throw TestSupportError("the proxy did not start: \(seen)")
        }
        port = found
    }

    /// Stops it and returns what it printed on stderr (its summary).
    func stop() -> String {
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        return String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }
}

@Suite("upshift shadow from the command line", .serialized)
struct ShadowCommandTests {
    @Test("a RESP target whose URL has no password logs in with --token (Upstash's rediss://default:TOKEN@… form)")
    func respTargetTakesToken() async throws {
        try await withRedisServer { primary in
            try await withRedisServer(arguments: ["--requirepass", "tok-secret"]) { target in
                let proxy = try ShadowProcess([
                    "--primary", primary.url, "--target", "redis://127.0.0.1:\(target.port)", "--token", "tok-secret",
                ])
                let client = RedisClient(url: try RedisURL("redis://127.0.0.1:\(proxy.port)"))
                #expect(try await client.send(RESPCommand("SET", "k", "v")) == .ok)
                await client.close()
                let summary = proxy.stop()
                #expect(summary.contains("mismatches: none"), "\(summary)")
                #expect(!summary.contains("tok-secret"))
                let t = try target.client("redis://:tok-secret@127.0.0.1:\(target.port)")
                #expect(try await t.send(RESPCommand("GET", "k")) == .bulk("v"))
                await t.close()
            }
        }
    }

    @Test("the flip to a RESP target: the target answers (logged in with --token), the old primary keeps the writes")
    func flipToRESPTarget() async throws {
        try await withRedisServer { primary in
            try await withRedisServer(arguments: ["--requirepass", "tok-secret"]) { target in
                let t = try target.client("redis://:tok-secret@127.0.0.1:\(target.port)")
                _ = try await t.send(RESPCommand("SET", "where", "target"))
                let proxy = try ShadowProcess([
                    "--primary", primary.url, "--target", "redis://127.0.0.1:\(target.port)", "--token", "tok-secret",
                    "--primary-side", "upstash",
                ])
                let client = RedisClient(url: try RedisURL("redis://127.0.0.1:\(proxy.port)"))
                #expect(try await client.send(RESPCommand("GET", "where")) == .bulk("target"))
                #expect(try await client.send(RESPCommand("SET", "k", "v")) == .ok)
                await client.close()
                let summary = proxy.stop()
                #expect(!summary.contains("tok-secret"), "\(summary)")
                let old = try primary.client()
                #expect(try await old.send(RESPCommand("GET", "k")) == .bulk("v"))
                await old.close()
                await t.close()
            }
        }
    }

    @Test("a mixed workload (scripts, blocking pops, SPOP, db 1 writes) through upshift shadow --db-prefix: upshift compare is clean")
    func mixedWorkloadCompareClean() async throws {
        try await withRedisServer { primary in
            try await withRedisServer { target in
                let proxy = try ShadowProcess(["--primary", primary.url, "--target", target.url, "--db-prefix", "1=db1:"])
                let script = """
                    import redis, sys, threading, time
                    port = int(sys.argv[1])
                    r = redis.Redis(port=port); other = redis.Redis(port=port); one = redis.Redis(port=port, db=1)
                    for i in range(100): r.eval("return redis.call('INCR', KEYS[1])", 1, "app:hits")
                    r.function_load("#!lua name=lib\\nredis.register_function('add', function(k, a) return redis.call('INCRBY', k[1], a[1]) end)")
                    for i in range(50): r.fcall("add", 1, "app:total", i)
                    r.sadd("app:pool", *range(60)); r.spop("app:pool", 7); r.spop("app:pool")
                    r.set("app:session", "s", ex=300); r.expire("app:hits", 500)
                    def consume():
                        for _ in range(5): r.blpop(["app:jobs"], 5); r.bzpopmin(["app:ranked"], 5)
                    t = threading.Thread(target=consume); t.start()
                    for i in range(5):
                        time.sleep(0.01); other.rpush("app:jobs", i, f"extra{i}"); other.zadd("app:ranked", {f"m{i}": i, f"n{i}": 9})
                    t.join()
                    for i in range(30): one.set(f"app:user:{i}", i); one.hset("app:h", f"f{i}", i)
                    one.incr("app:counter"); one.spop("app:h2") ; one.sadd("app:s", 1, 2, 3); one.spop("app:s")
                    print("ok")
                    """
                let path = FileManager.default.temporaryDirectory.appendingPathComponent("mixed-\(UUID().uuidString).py").path
                try script.write(toFile: path, atomically: true, encoding: .utf8)
                defer { try? FileManager.default.removeItem(atPath: path) }
                let ran = try runUpshiftPython(path, port: proxy.port)
                #expect(ran.contains("ok"), "\(ran)")
                let summary = proxy.stop()
                #expect(summary.contains("mismatches: none") || !summary.contains("diff"), "\(summary)")
                // db 0: straight; db 1: copied by migrate --db 1 --key-prefix db1: into a scratch server, then compared.
                let home = try runUpshift(["compare", "--source", primary.url, "--target", target.url, "--match", "app:*"])
                #expect(home.status == 0, "\(home.stdout) \(home.stderr)")
                try await withRedisServer { scratch in
                    let copy = try runUpshift([
                        "migrate", "--source", primary.url, "--db", "1", "--key-prefix", "db1:", "--target", scratch.url,
                    ])
                    #expect(copy.status == 0, "\(copy.stdout) \(copy.stderr)")
                    let mapped = try runUpshift(["compare", "--source", scratch.url, "--target", target.url, "--match", "db1:*"])
                    #expect(mapped.status == 0, "\(mapped.stdout) \(mapped.stderr)")
                }
            }
        }
    }
}

/// Runs a redis-py script against the proxy; its stdout and stderr together.
private func runUpshiftPython(_ path: String, port: Int) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: try which("python3"))
    p.arguments = [path, "\(port)"]
    let out = Pipe()
    p.standardOutput = out
    p.standardError = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}
