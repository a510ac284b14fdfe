import Checklist
import Foundation
import RESP
import RedisClient
import TestSupport
import Testing

/// The shipped checklists, from the repository.
func shippedChecklists() throws -> [Checklist] {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return try Checklist.load(path: root.appendingPathComponent("checklists").path)
}

@Suite("verify: the shipped checklists")
struct VerifyTests {
    @Test("every shipped scenario passes on a real redis-server (Upstash-only scripts reported, not failed)")
    func passesOnRedis() async throws {
        try await withRedisServer { server in
            let lists = try shippedChecklists()
            #expect(Set(lists.map(\.area)).isSuperset(of: ["cache", "ratelimit", "locks", "queue", "sessions", "transactions", "pubsub"]))
            let report = await Verification(
                checklists: lists, backends: [("redis", RedisClient(url: try RedisURL(server.url), connections: 8))]
            ).run()
            #expect(report.isPassing, "\(report.table())")
            let unavailable = report.results.filter { $0.status == .unavailable }.map(\.scenario)
            #expect(unavailable == ["Upstash-style script with allow-key-locking"])
            #expect(report.seconds < 60)
            // nothing left behind
            #expect(try await allKeys(try server.client()).isEmpty)
        }
    }

    /// Which scenarios each breakage must fail, and no others.
    static let expectedFailures: [FaultyBackend.Fault: Set<String>] = [
        .ignoreExpiry: [
            "SET options (EX, PX, EXAT, PXAT, NX, XX, GET, KEEPTTL)", "entries expire after their TTL, not before",
            "fixed window with INCR and EXPIRE on the first hit", "expiry releases a crashed holder",
            "sliding expiration refreshes on access", "40 concurrent sessions",
        ],
        .setNXAsSet: [
            "SET options (EX, PX, EXAT, PXAT, NX, XX, GET, KEEPTTL)", "acquire, refuse a second holder, release by token",
            "6 workers contending, never two holders",
        ],
        .refuseScripts: [
            "fixed window script, 8 clients, limit 50 (EVAL)",
            "sliding window script, 8 clients, limit 40 (SCRIPT LOAD + EVALSHA, NOSCRIPT fallback)",
            "token bucket script, 8 clients, capacity 30", "EVALSHA after SCRIPT LOAD", "Upstash-style script with allow-key-locking",
            "acquire, refuse a second holder, release by token", "extension by the holder", "6 workers contending, never two holders",
        ],
        .loseListItems: [
            "LPUSH and RPOP keep FIFO order", "reliable queue with LMOVE and a dead-letter list",
            "3 producers, 3 consumers, no job lost or duplicated",
            // its LPUSH onto a string is swallowed instead of answering WRONGTYPE
            "a pipeline answers in order",
        ],
    ]

    // One fault at a time: four concurrent verifications on two cores would test the machine's timing, not the target.
    @Test(
        "a target broken on purpose fails exactly the scenarios that should catch it", .serialized, arguments: FaultyBackend.Fault.allCases)
    func catchesBreakage(_ fault: FaultyBackend.Fault) async throws {
        try await withRedisServer { server in
            let faulty = FaultyBackend(inner: RedisClient(url: try RedisURL(server.url), connections: 8), fault: fault)
            let report = await Verification(checklists: try shippedChecklists(), backends: [("broken", faulty)]).run()
            let failed = Set(report.failed.map(\.scenario))
            #expect(failed == Self.expectedFailures[fault], "\(fault): \(report.failed.map { "\($0.scenario): \($0.message)" })")
        }
    }

    @Test("JUnit has a testsuite per area and the CLI exits non-zero on failure")
    func outputs() async throws {
        try await withRedisServer { server in
            let dir = server.directory.path
            let r = try runUpshift([
                "verify", "--source", server.url, "--target", server.url, "--only", "cache,locks", "--junit", "\(dir)/j.xml", "--markdown",
                "\(dir)/r.md",
            ])
            #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
            let xml = try String(contentsOfFile: "\(dir)/j.xml", encoding: .utf8)
            #expect(xml.components(separatedBy: "<testsuite ").count - 1 == 2)
            #expect(xml.contains("testcase"))
            #expect(try String(contentsOfFile: "\(dir)/r.md", encoding: .utf8).contains("| cache |"))
            let bad = "\(dir)/bad.yaml"
            try "area: broken\nscenarios:\n  - name: wrong on purpose\n    steps:\n      - send: [SET, \"{p}k\", v]\n        expect: NOPE\n"
                .write(toFile: bad, atomically: true, encoding: .utf8)
            let failing = try runUpshift(["verify", "--source", server.url, "--checklist", bad])
            #expect(failing.status == 1)
            #expect(failing.stdout.contains("FAIL"))
        }
    }

    @Test("malformed checklists are refused with the file and scenario named")
    func malformed() {
        #expect(throws: ChecklistError.self) { try Checklist.parse(yaml: "area: x\nscenarios: 3\n") }
        #expect(throws: ChecklistError.self) {
            try Checklist.parse(yaml: "area: x\nscenarios:\n  - name: n\n    steps:\n      - jump: 1\n")
        }
        #expect(throws: ChecklistError.self) { try Checklist.parse(yaml: "[unclosed") }
        #expect(throws: ChecklistError.self) {
            try Checklist.parse(yaml: "area: x\nscenarios:\n  - name: n\n    requires: redis seven\n    steps:\n      - wait: 1\n")
        }
    }

    @Test("a scenario that needs a newer Redis than the backend runs is n/a there, with the versions named; on a new enough one it runs")
    func requiresVersion() async throws {
        let list = try Checklist.parse(
            yaml: "area: x\nscenarios:\n  - name: n\n    requires: redis 7.0\n    steps:\n      - send: [PING]\n        expect: PONG\n")
        #expect(list.scenarios[0].minimumRedis == RedisVersion("7.0"))
        #expect(RedisVersion("6.2.14")! < RedisVersion("7")!)
        #expect(!(RedisVersion("7.0.15")! < RedisVersion("7.0")!))
        try await withRedisServer { server in
            let old = ScenarioRunner(backend: try server.client(), label: "old", serverVersion: RedisVersion("6.2.14"))
            let skipped = await old.run(list.scenarios[0], area: "x", index: 0)
            #expect(skipped.status == .unavailable)
            #expect(skipped.message == "n/a: needs Redis 7.0 (this server runs 6.2.14)")
            let version = await ScenarioRunner.version(of: try server.client())
            #expect(version.map { $0 >= RedisVersion("7.0")! } == true)
            let current = ScenarioRunner(backend: try server.client(), label: "new", serverVersion: version)
            #expect(await current.run(list.scenarios[0], area: "x", index: 0).status == .pass)
        }
    }
}
