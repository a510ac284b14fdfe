import Foundation
import RESP
import RedisClient
import TestSupport
import Testing

@Suite("upshift compare: what it claims, how it shows progress, how it stops")
struct CompareCommandTests {
    @Test("--sample N says it checked N source keys one way only, never 'no differences: the target holds every key'")
    func sampleClaim() async throws {
        try await withRedisServer { source in
            try await withRedisServer { target in
                let cmds = (0..<50).map { RESPCommand("SET", "k:\($0)", "v") }
                _ = try await source.client().send(batch: cmds)
                _ = try await target.client().send(batch: cmds + [RESPCommand("SET", "only-on-target", "x")])
                let r = try runUpshift(["compare", "--source", source.url, "--target", target.url, "--sample", "20", "--rounds", "1"])
                #expect(r.status == 0, "\(r.stderr)")
                #expect(r.stdout.contains("20 random source keys checked on the target"), "\(r.stdout)")
                #expect(r.stdout.contains("source → target only"), "\(r.stdout)")
                #expect(r.stdout.contains("no differences among the 20 sampled source keys"), "\(r.stdout)")
                #expect(!r.stdout.contains("the target holds every key"), "\(r.stdout)")

                // asked for more keys than the source has: it says how many it found
                let more = try runUpshift(["compare", "--source", source.url, "--target", target.url, "--sample", "500", "--rounds", "1"])
                #expect(more.stdout.contains("50 random source keys checked on the target (of 500 asked"), "\(more.stdout)")

                let json = try runUpshift(["compare", "--source", source.url, "--target", target.url, "--sample", "5", "--json"])
                let report = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
                #expect(report?["sampled"] as? Bool == true)
                #expect(report?["sampleRequested"] as? Int == 5)
                #expect(report?["extraChecked"] as? Int == 0)
            }
        }
    }

    @Test("SIGINT during the pause between rounds: stops at once, prints the report so far as incomplete, exits 130")
    func interruptedBetweenRounds() async throws {
        try await withRedisServer { source in
            try await withRedisServer { target in
                _ = try await source.client().send(batch: [RESPCommand("SET", "a", "1"), RESPCommand("SET", "b", "2")])
                _ = try await target.client().send(RESPCommand("SET", "a", "1"))
                let run = try UpshiftProcess([
                    "compare", "--source", source.url, "--target", target.url, "--rounds", "3", "--interval", "60s",
                    "--progress-interval", "0",
                ])
                // the first round has found b missing once the source and target scans are done; then it pauses 60 s
                try await Task.sleep(nanoseconds: 1_500_000_000)
                let signalled = Date()
                run.signal(SIGINT)
                let (r, exited) = try await run.finish(timeout: 20)
                #expect(exited && r.status == 130, "\(r.status) \(r.stderr)")
                #expect(Date().timeIntervalSince(signalled) < 5, "it waited out the pause")
                #expect(r.stdout.contains("interrupted before the end"), "\(r.stdout)")
                #expect(r.stdout.contains("missing: 1"), "\(r.stdout)")
                #expect(!r.stdout.contains("no differences"))
                #expect(r.stderr.contains("interrupted by SIGINT"), "\(r.stderr)")
            }
        }
    }

    @Test("stdout not a terminal: progress lines on stderr while it runs; --json stdout stays JSON")
    func progressLines() async throws {
        try await withRedisServer { source in
            try await withRedisServer { target in
                for chunk in stride(from: 0, to: 30_000, by: 2000) {
                    let cmds = (chunk..<chunk + 2000).map { RESPCommand("SET", "k:\($0)", "v\($0)") }
                    _ = try await source.client().send(batch: cmds)
                    _ = try await target.client().send(batch: cmds)
                }
                let r = try await runUpshift(
                    [
                        "compare", "--source", source.url, "--target", target.url, "--json", "--progress-interval", "100ms",
                    ], in: source.directory)
                #expect(r.status == 0, "\(r.stderr)")
                let report = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
                #expect(report?["keysChecked"] as? Int == 30_000)
                let lines = r.stderr.split(separator: "\n").filter { $0.hasPrefix("compare: ") }
                #expect(!lines.isEmpty, "\(r.stderr)")
                #expect(lines.allSatisfy { $0.contains(" of 60000 keys (") && $0.contains("keys/s") }, "\(lines)")
            }
        }
    }
}
