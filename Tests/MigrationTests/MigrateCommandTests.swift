import Foundation
import RESP
import RedisClient
import TestSupport
import Testing

@Suite("upshift migrate: the command")
struct MigrateCommandTests {
    @Test("a run killed with SIGKILL mid-copy and resumed ends identical to the source")
    func killAndResume() async throws {
        try await withRedisServer { source in
            try await withRedisServer { target in
                let s = try source.client()
                let t = try target.client()
                for chunk in stride(from: 0, to: 60_000, by: 2000) {
                    _ = try await s.send(batch: (chunk..<chunk + 2000).map { RESPCommand("RPUSH", "q:\($0 % 5000)", "job-\($0)") })
                }
                _ = try await s.send(batch: (0..<20_000).map { RESPCommand("SET", "k:\($0)", "v\($0)", "EX", 5000) })
                let checkpoint = source.directory.appendingPathComponent("cp.json").path
                let args = [
                    "migrate", "--source", source.url, "--target", target.url, "--checkpoint", checkpoint, "--batch", "50",
                    "--concurrency", "2",
                ]
                let p = try startUpshift(args)
                // kill it once it has checkpointed at least one batch but before it is done
                var killed = false
                for _ in 0..<400 {
                    try await Task.sleep(nanoseconds: 10_000_000)
                    if let data = FileManager.default.contents(atPath: checkpoint), !data.isEmpty {
                        kill(p.processIdentifier, SIGKILL)
                        killed = true
                        break
                    }
                }
                var status: Int32 = 0
                waitpid(p.processIdentifier, &status, 0)
                #expect(killed, "the migration never wrote a checkpoint")
                let partial = try await t.send(RESPCommand("DBSIZE")).integer ?? 0
                #expect(partial < 25_000, "the kill came too late to test resuming (\(partial) keys already copied)")
                let resumed = try runUpshift(args + ["--resume"])
                #expect(resumed.status == 0, "\(resumed.stderr)")
                let diffs = try await keyspaceDifferences(s, t)
                #expect(diffs.isEmpty, "\(diffs.prefix(5))")
            }
        }
    }

    @Test("--dry-run writes nothing and prints the plan")
    func dryRun() async throws {
        try await withRedisServer { source in
            try await withRedisServer { target in
                let s = try source.client()
                try await seedEveryType(s)
                let report = source.directory.appendingPathComponent("plan.json").path
                let r = try runUpshift([
                    "migrate", "--source", source.url, "--target", target.url, "--dry-run", "--report", report, "--json",
                ])
                #expect(r.status == 0, "\(r.stderr)")
                #expect(try await target.client().send(RESPCommand("DBSIZE")) == .integer(0))
                let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
                #expect(json?["keysScanned"] as? Int == 315)
                #expect(json?["dryRun"] as? Bool == true)
                #expect((json?["estimatedSeconds"] as? Double).map { $0 > 0 } == true)
                #expect(FileManager.default.fileExists(atPath: report))
            }
        }
    }

    @Test("--keys-from copies just the listed keys, binary ones included")
    func keysFrom() async throws {
        try await withRedisServer { source in
            try await withRedisServer { target in
                let s = try source.client()
                try await seedEveryType(s)
                let file = source.directory.appendingPathComponent("keys.txt").path
                let binary = "b64:" + Data([0, 0xFF, 0xFE, 13, 10, 0x20]).base64EncodedString()
                try "hash\nmany:7\n\(binary)\n".write(toFile: file, atomically: true, encoding: .utf8)
                let r = try runUpshift(["migrate", "--source", source.url, "--target", target.url, "--keys-from", file])
                #expect(r.status == 0, "\(r.stderr)")
                let keys = try await allKeys(try target.client())
                #expect(keys == [Array("hash".utf8), Array("many:7".utf8), [0, 0xFF, 0xFE, 13, 10, 0x20]])
            }
        }
    }

    @Test("--db N --key-prefix maps another database into Upstash's single one")
    func dbMapping() async throws {
        try await withRedisServer { source in
            try await withRedisServer { target in
                let db3 = try source.client("\(source.url)/3")
                _ = try await db3.send(batch: [RESPCommand("SET", "a", "1"), RESPCommand("HSET", "h", "f", "v")])
                _ = try await source.client().send(RESPCommand("SET", "zero", "0"))
                let r = try runUpshift(["migrate", "--source", source.url, "--db", "3", "--key-prefix", "db3:", "--target", target.url])
                #expect(r.status == 0, "\(r.stderr)")
                #expect(try await allKeys(try target.client()) == [Array("db3:a".utf8), Array("db3:h".utf8)])
            }
        }
    }

    @Test("a key over 32 KB is listed with its reason and the exit status says incomplete")
    func oversizedKey() async throws {
        try await withRedisServer { source in
            try await withRedisServer { target in
                let s = try source.client()
                _ = try await s.send(batch: [RESPCommand("SET", String(repeating: "k", count: 40_000), "v"), RESPCommand("SET", "ok", "v")])
                let r = try runUpshift(["migrate", "--source", source.url, "--target", target.url])
                #expect(r.status == 1)
                #expect(r.stdout.contains("32768"))
                #expect(r.stdout.contains("cannot be copied"))
                #expect(try await allKeys(try target.client()) == [Array("ok".utf8)])
            }
        }
    }

    @Test("--on-conflict skip leaves existing keys alone; fail stops")
    func conflicts() async throws {
        try await withRedisServer { source in
            try await withRedisServer { target in
                let s = try source.client()
                let t = try target.client()
                _ = try await s.send(batch: [RESPCommand("SET", "a", "source"), RESPCommand("SET", "b", "source")])
                _ = try await t.send(RESPCommand("SET", "a", "target"))
                let skip = try runUpshift(["migrate", "--source", source.url, "--target", target.url, "--on-conflict", "skip"])
                #expect(skip.status == 0, "\(skip.stderr)")
                #expect(try await t.send(RESPCommand("GET", "a")) == .bulk("target"))
                #expect(try await t.send(RESPCommand("GET", "b")) == .bulk("source"))
                let fail = try runUpshift(["migrate", "--source", source.url, "--target", target.url, "--on-conflict", "fail"])
                #expect(fail.status != 0)
                #expect(fail.stderr.contains("exists"))
            }
        }
    }

    @Test("a dead source fails with one line naming host:port, never the password")
    func deadSource() throws {
        let r = try runUpshift(["migrate", "--source", "redis://:hush-991@127.0.0.1:1", "--target", "redis://127.0.0.1:2"])
        #expect(r.status != 0)
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(r.stderr.contains("127.0.0.1:1"))
        #expect(!r.stderr.contains("hush-991"))
    }
}
