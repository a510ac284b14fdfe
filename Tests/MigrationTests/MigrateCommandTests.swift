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

/// A run slow enough to watch and interrupt: `n` keys copied through the gateway at a paced
/// commands/s, one batch of 50 at a time.
private func pacedArguments(_ source: RedisServer, _ gateway: GatewayProcess, perSecond: Int = 1500) -> [String] {
    [
        "migrate", "--source", source.url, "--target", gateway.url, "--token", gateway.token, "--batch", "50", "--concurrency", "1",
        "--max-commands-per-second", "\(perSecond)",
    ]
}

private func seedStrings(_ server: RedisServer, _ n: Int) async throws {
    let s = try server.client()
    for chunk in stride(from: 0, to: n, by: 1000) {
        _ = try await s.send(batch: (chunk..<min(n, chunk + 1000)).map { RESPCommand("SET", "k:\($0)", "v\($0)") })
    }
    await s.close()
}

private func checkpointJSON(_ path: String) throws -> [String: Any] {
    let data = try #require(FileManager.default.contents(atPath: path))
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
}

@Suite("upshift migrate: checkpoints, signals and progress")
struct MigrateRunControlTests {
    @Test(
        "SIGINT/SIGTERM mid-copy: the batch in flight lands, the checkpoint holds it, the summary so far is printed, exit 128+signal; --resume finishes",
        arguments: [SIGINT, SIGTERM])
    func interrupted(_ sig: Int32) async throws {
        try await withRedisServer { source in
            try await withGateway { gateway in
                try await seedStrings(source, 3000)
                let checkpoint = source.directory.appendingPathComponent("cp.json").path
                let args = pacedArguments(source, gateway) + ["--checkpoint", checkpoint]
                let run = try UpshiftProcess(args)
                #expect(try await run.waitFor { FileManager.default.fileExists(atPath: checkpoint) }, "no checkpoint was written")
                run.signal(sig)
                let (r, exited) = try await run.finish(timeout: 30)
                #expect(exited, "the signal killed it: \(r.stderr)")
                #expect(r.status == 128 + sig, "\(r.stderr)")
                #expect(r.stdout.contains("keys scanned, copied"), "no summary: \(r.stdout)")
                #expect(r.stderr.contains("resume with --resume"), "\(r.stderr)")
                let saved = try checkpointJSON(checkpoint)
                #expect(saved["done"] as? Bool == false)
                let copied = (saved["summary"] as? [String: Any])?["copied"] as? Int
                let onTarget = try await gateway.redis.client().send(RESPCommand("DBSIZE")).integer
                // the checkpoint counts exactly what reached the target: no batch was cut off half-way
                #expect(copied.map(Int64.init) == onTarget)
                #expect((onTarget ?? 0) > 0 && (onTarget ?? 0) < 3000, "the signal came too late to test: \(onTarget ?? -1) keys")

                let resumed = try await runUpshift(args + ["--resume"], in: source.directory)
                #expect(resumed.status == 0, "\(resumed.stderr)")
                let diffs = try await keyspaceDifferences(try source.client(), try gateway.redis.client())
                #expect(diffs.isEmpty, "\(diffs.prefix(5))")
            }
        }
    }

    @Test("an existing checkpoint, finished or partial, is never started over without --resume or --restart")
    func existingCheckpoint() async throws {
        try await withRedisServer { source in
            try await withRedisServer { target in
                try await seedStrings(source, 100)
                let t = try target.client()
                let checkpoint = source.directory.appendingPathComponent("cp.json").path
                let args = ["migrate", "--source", source.url, "--target", target.url, "--checkpoint", checkpoint]
                #expect(try runUpshift(args).status == 0)
                _ = try await t.send(RESPCommand("FLUSHALL"))

                let again = try runUpshift(args)
                #expect(again.status == 1)
                #expect(again.stderr.contains("finished copy"), "\(again.stderr)")
                #expect(again.stderr.contains("--resume") && again.stderr.contains("--restart"), "\(again.stderr)")
                #expect(try await t.send(RESPCommand("DBSIZE")) == .integer(0), "it copied (and billed) again")

                // the same for a run that stopped half-way
                var saved = try checkpointJSON(checkpoint)
                saved["done"] = false
                try JSONSerialization.data(withJSONObject: saved).write(to: URL(fileURLWithPath: checkpoint))
                let partial = try runUpshift(args)
                #expect(partial.status == 1)
                #expect(partial.stderr.contains("stopped after"), "\(partial.stderr)")
                #expect(try await t.send(RESPCommand("DBSIZE")) == .integer(0))

                let restarted = try runUpshift(args + ["--restart"])
                #expect(restarted.status == 0, "\(restarted.stderr)")
                #expect(try await t.send(RESPCommand("DBSIZE")) == .integer(100))
                #expect(try checkpointJSON(checkpoint)["done"] as? Bool == true)
                #expect(try runUpshift(args + ["--resume", "--restart"]).status == 64)
            }
        }
    }

    @Test(
        "--resume with other options names each option that differs",
        arguments: [
            (["--match", "k:1*"], "--match is k:1* here, * in the checkpoint"),
            (["--type", "hash"], "--type is hash here, any in the checkpoint"),
            (["--key-prefix", "db0:"], "--key-prefix is db0: here,"),
            (["--shard", "0/2"], "--shard is 0/2 here, all in the checkpoint"),
        ])
    func resumeWithOtherOptions(_ extra: [String], _ said: String) async throws {
        try await withRedisServer { source in
            try await withRedisServer { target in
                try await seedStrings(source, 10)
                let checkpoint = source.directory.appendingPathComponent("cp.json").path
                let args = ["migrate", "--source", source.url, "--target", target.url, "--checkpoint", checkpoint]
                #expect(try runUpshift(args).status == 0)
                let r = try runUpshift(args + extra + ["--resume"])
                #expect(r.status == 1)
                #expect(r.stderr.contains(said), "\(r.stderr)")
                #expect(r.stderr.contains("--restart"), "\(r.stderr)")
            }
        }
    }

    @Test("a corrupt checkpoint says so in plain words, with or without --resume", arguments: ["{\"source\": \"redis", "garbage", "{}"])
    func corruptCheckpoint(_ text: String) async throws {
        try await withRedisServer { source in
            try await withRedisServer { target in
                try await seedStrings(source, 10)
                let checkpoint = source.directory.appendingPathComponent("cp.json").path
                try text.write(toFile: checkpoint, atomically: true, encoding: .utf8)
                let args = ["migrate", "--source", source.url, "--target", target.url, "--checkpoint", checkpoint]
                for r in [try runUpshift(args + ["--resume"]), try runUpshift(args)] {
                    #expect(r.status == 1)
                    #expect(r.stderr.contains("checkpoint \(checkpoint) is corrupt"), "\(r.stderr)")
                    #expect(r.stderr.contains("--restart"))
                    for swiftism in ["DecodingError", "dataCorrupted", "keyNotFound", "CodingKeys", "codingPath"] {
                        #expect(!r.stderr.contains(swiftism), "\(r.stderr)")
                    }
                }
                #expect(try runUpshift(args + ["--restart"]).status == 0)
                #expect(try await target.client().send(RESPCommand("DBSIZE")) == .integer(10))
            }
        }
    }

    @Test("stdout not a terminal: one progress line on stderr per interval (keys, keys/s, ETA), and --json stdout stays JSON")
    func progressLines() async throws {
        try await withRedisServer { source in
            try await withGateway { gateway in
                try await seedStrings(source, 2000)
                let r = try await runUpshift(
                    pacedArguments(source, gateway, perSecond: 1200) + ["--json", "--progress-interval", "300ms"], in: source.directory)
                #expect(r.status == 0, "\(r.stderr)")
                let summary = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
                #expect(summary?["copied"] as? Int == 2000)
                let lines = r.stderr.split(separator: "\n").filter { $0.hasPrefix("migrate: ") }
                #expect(lines.count >= 3, "\(r.stderr)")
                #expect(lines.allSatisfy { $0.contains(" of 2000 keys (") && $0.contains("keys/s") }, "\(lines)")
                #expect(lines.contains { $0.contains("ETA") }, "\(lines)")
                #expect(!r.stderr.contains("\r"))
            }
        }
    }

    @Test("--dry-run with --checkpoint is a usage error: a dry run must not overwrite a real run's progress")
    func dryRunCheckpoint() async throws {
        try await withRedisServer { source in
            let r = try runUpshift(["migrate", "--source", source.url, "--dry-run", "--checkpoint", "/tmp/never-written.json"])
            #expect(r.status == 64)
            #expect(r.stderr.contains("not even a checkpoint"), "\(r.stderr)")
        }
    }
}
