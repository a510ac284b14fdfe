import Foundation
import RESP
import RedisClient
import TestSupport
import Testing
import UpstashProfile

@testable import Report

@Suite("report against a real redis-server seeded with every finding")
struct ReportIntegrationTests {
    static func report(_ server: RedisServer, options: ReportOptions = .init()) async throws -> Report {
        try await Report.run(source: RedisURL(server.url), options: options)
    }

    @Test(
        "each finding appears with its severity and count",
        arguments: [
            ("key-too-long", Severity.blocker, 1), ("record-too-large", .blocker, 1), ("needs-chunking", .warning, 2),
            ("non-utf8-keys", .warning, 1), ("non-utf8-values", .info, 1), ("database-3", .warning, Seed.db3Keys),
            ("command-blpop", .blocker, 1), ("command-watch", .blocker, 1), ("command-unwatch", .blocker, 1),
            ("command-select", .warning, 1), ("lua-scripts", .info, 1), ("lua-functions", .info, 1),
        ])
    func finding(_ id: String, _ severity: Severity, _ count: Int) async throws {
        try await withRedisServer { server in
            try await Seed.everyFinding(server)
            let report = try await Self.report(server)
            let finding = try #require(report.findings.first { $0.id == id }, "no finding \(id) in \(report.findings.map(\.id))")
            #expect(finding.severity == severity)
            #expect(finding.count == count)
            #expect(!finding.action.isEmpty)
            #expect(report.hasBlockers)
        }
    }

    @Test("the findings name the keys and commands involved")
    func items() async throws {
        try await withRedisServer { server in
            try await Seed.everyFinding(server)
            let report = try await Self.report(server)
            func items(_ id: String) -> [FindingItem] { report.findings.first { $0.id == id }?.items ?? [] }
            #expect(items("non-utf8-keys").map(\.subject) == ["\\xff\\xfebin"])
            #expect(items("key-too-long").first?.bytes == Seed.longKey.count)
            #expect(items("key-too-long").first?.subject.hasPrefix("long:kkk") == true)
            #expect(items("record-too-large").map(\.subject) == ["huge:1"])
            #expect(items("record-too-large").first?.bytes == Seed.hugeBytes)
            #expect(Set(items("needs-chunking").map(\.subject)) == ["big:1", "huge:1"])
            #expect(items("command-blpop").first?.calls == 1)
            #expect(items("database-3").count == Seed.db3Keys)
            #expect(items("database-3").allSatisfy { $0.database == 3 && $0.subject.hasPrefix("db3:key:") })
            #expect(items("lua-functions").first?.subject.contains("ratelimit") == true)
            #expect(report.findings.first { $0.id == "database-3" }?.action.contains("--db 3 --key-prefix db3:") == true)
            // Blockers first, then warnings, then notes.
            #expect(report.findings.map(\.severity) == report.findings.map(\.severity).sorted())
        }
    }

    @Test("the census counts keys per type and database, TTL buckets and the biggest keys")
    func census() async throws {
        try await withRedisServer { server in
            try await Seed.everyFinding(server)
            let report = try await Self.report(server, options: ReportOptions(topKeys: 3))
            let c = report.census
            #expect(!c.sampled)
            #expect(c.keys == Seed.totalKeys)
            #expect(c.keysScanned == Seed.totalKeys)
            #expect(c.databases.map(\.index) == [0, 3])
            #expect(c.databases.map(\.keys) == [Seed.db0Keys, Seed.db3Keys])
            let types = Dictionary(uniqueKeysWithValues: c.types.map { ($0.type, $0) })
            #expect(types["string"]?.keys == Seed.db0Strings + Seed.db3Keys)
            #expect(types["list"]?.elements == Seed.listLength)
            #expect(types["hash"]?.elements == 10)
            #expect(Set(types.keys) == ["string", "list", "hash", "set", "zset", "stream"])
            #expect(c.bytes >= Seed.hugeBytes + Seed.bigBytes)
            let ttl = c.timeToLive.buckets.map(\.count)
            #expect(ttl == [Seed.totalKeys - 14, 5, 4, 3, 2])
            #expect(c.keySizes.buckets.last?.count == 1)
            #expect(c.biggestKeys.map(\.key) == ["huge:1", "big:1", c.biggestKeys[2].key])
            #expect(c.biggestKeys.count == 3)
            #expect(c.biggestKeys[0].length == Seed.hugeBytes)
            #expect(c.valueSizes.total == Seed.totalKeys)
        }
    }

    @Test("cost and migration: the 100 MB record rules out the small plans; the copy is sized per key")
    func cost() async throws {
        try await withRedisServer { server in
            try await Seed.everyFinding(server)
            let report = try await Self.report(server)
            let cost = report.cost
            #expect(cost.cheapestFit == "fixed-1gb")
            #expect(cost.plans.first { $0.plan == "payg" }?.fitsRecords == false)
            #expect(cost.plans.first { $0.plan == "fixed-1gb" }?.fits == true)
            #expect(cost.observedCalls > 0)
            #expect(cost.monthlyCommands > 0)
            // What migrate bills: one SET per string, one RESTORE per collection (list, hash, set, zset,
            // stream), one script call for the batch of those and the binary ones, the two SCRIPT LOADs;
            // the two strings bigger than 4 MB go in chunks: 26 of 4 MB for huge:1, 3 for big:1, each
            // chunk a script call and its command, plus the move into place (3).
            let strings = Seed.db0Strings + Seed.db3Keys
            #expect(cost.migration.commands == (strings - 2) + (26 * 2 + 3) + (3 * 2 + 3) + 5 + 1 + 2)
            #expect(cost.migration.bytes >= Seed.hugeBytes + Seed.bigBytes)
            #expect(cost.migration.requests == 12)  // 111 MB in 10 MB requests
            #expect(report.findings.contains { $0.id == "plan-fit" && $0.severity == .info })
        }
    }

    @Test("the JSON and the Markdown carry the same numbers")
    func jsonMatchesMarkdown() async throws {
        try await withRedisServer { server in
            try await Seed.everyFinding(server)
            let report = try await Self.report(server)
            let markdown = try report.rendered(as: .md)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as? [String: Any])
            let census = try #require(json["census"] as? [String: Any])
            for type in try #require(census["types"] as? [[String: Any]]) {
                let name = try #require(type["type"] as? String)
                let keys = try #require(type["keys"] as? Int)
                let bytes = try #require(type["bytes"] as? Int)
                let elements = try #require(type["elements"] as? Int)
                let row = "| \(name) | \(ByteText.count(keys)) | \(ByteText.size(bytes)) | \(ByteText.count(elements)) |"
                #expect(markdown.contains(row), "missing \(row)")
            }
            for db in try #require(census["databases"] as? [[String: Any]]) {
                let row = "| db\(db["index"] as? Int ?? -1) | \(ByteText.count(db["keys"] as? Int ?? -1)) |"
                #expect(markdown.contains(row), "missing \(row)")
            }
            for finding in try #require(json["findings"] as? [[String: Any]]) {
                let id = try #require(finding["id"] as? String)
                let severity = try #require(finding["severity"] as? String)
                let line = try #require(markdown.split(separator: "\n").first { $0.contains("`\(id)`") }, "no row for \(id)")
                #expect(line.hasPrefix("| \(severity) |"))
                let count = try #require(finding["count"] as? Int)
                let unit = try #require(finding["unit"] as? String)
                #expect(line.contains(unit == "bytes" ? ByteText.size(count) : ByteText.count(count)))
            }
            for bucket in try #require((census["timeToLive"] as? [String: Any])?["buckets"] as? [[String: Any]]) {
                let row = "| \(bucket["label"] as? String ?? "?") | \(ByteText.count(bucket["count"] as? Int ?? -1)) |"
                #expect(markdown.contains(row), "missing \(row)")
            }
            let migration = try #require((json["cost"] as? [String: Any])?["migration"] as? [String: Any])
            let row =
                "| \(ByteText.count(migration["commands"] as? Int ?? -1)) | \(ByteText.count(migration["requests"] as? Int ?? -1)) |"
            #expect(markdown.contains(row), "missing \(row)")
            let counts = try #require(json["counts"] as? [String: Int])
            #expect(markdown.contains("\(counts["blockers"] ?? -1) blockers"))
            // The JSON decodes back into the same report.
            #expect(try Report.decode(json: Data(report.json().utf8)) == report)
        }
    }

    @Test("--sample reads a bounded number of keys and extrapolates to the reported keyspace")
    func sample() async throws {
        try await withRedisServer { server in
            let client = try server.client()
            _ = try await client.send(batch: (0..<2000).map { RESPCommand("SET", "s:\($0)", "value") })
            await client.close()
            let report = try await Self.report(server, options: ReportOptions(sample: 100, scanCount: 50))
            #expect(report.census.sampled)
            #expect(report.census.sampleSize == 100)
            #expect(report.census.keysScanned == 100)
            #expect(report.census.keys == 2000)
            #expect(report.census.extrapolationFactor == 20)
            #expect(report.census.types.first?.keys == 2000)
            #expect(report.censusDescription.contains("sample of 100 keys"))
        }
    }

    @Test("a clean keyspace has no blockers")
    func clean() async throws {
        try await withRedisServer { server in
            try await Seed.clean(server)
            let report = try await Self.report(server)
            #expect(!report.hasBlockers)
            #expect(report.counts.blockers == 0)
            #expect(report.census.keys == 51)
            #expect(report.cost.cheapestFit != nil)
        }
    }

    @Test("a password never reaches the report")
    func noPassword() async throws {
        try await withRedisServer(arguments: ["--requirepass", "s3cret-report"]) { server in
            let report = try await Report.run(source: RedisURL("redis://:s3cret-report@127.0.0.1:\(server.port)"))
            for format in ReportFormat.allCases {
                #expect(!(try report.rendered(as: format)).contains("s3cret-report"))
            }
            #expect(report.source.contains(":***@"))
        }
    }
}

@Suite("report: JSON documents, the commandstats window, the bill")
struct ReportBillTests {
    @Test(
        "JSON documents are storable, WAIT is not a blocker; a server up for seconds has its cost flagged as extrapolated from a short window"
    )
    func jsonAndShortWindow() async throws {
        try await withRedisServer(modules: [.json]) { server in
            let c = try server.client()
            for i in 0..<10 { _ = try await c.send(RESPCommand("JSON.SET", "doc:\(i)", "$", #"{"n":\#(i)}"#)) }
            // WAIT is served by Upstash (wait.mdx); BLPOP is the contrast that is refused over REST.
            for _ in 0..<3 { #expect(try await c.send(RESPCommand("WAIT", "0", "0")) == .integer(0)) }
            _ = try await c.send(RESPCommand("BLPOP", "no-such-list", "0.01"))
            let report = try await Report.run(source: RedisURL(server.url), options: .init())
            #expect(!report.findings.contains { $0.id == "module-type" }, "\(report.findings.map(\.id))")
            #expect(!report.findings.contains { $0.id == "command-wait" }, "\(report.findings.map(\.id))")
            #expect(report.findings.contains { $0.id == "command-blpop" }, "\(report.findings.map(\.id))")
            #expect(report.census.types.contains { $0.type == "ReJSON-RL" && $0.keys == 10 })
            let window = try #require(report.findings.first { $0.id == "short-window" })
            #expect(window.severity == .warning)
            #expect(report.cost.shortWindow)
            // the JSON.SETs and the report's own INFO are in commandstats; INFO is free
            #expect(report.cost.billedCalls < report.cost.observedCalls)
            #expect(report.cost.billedCalls >= 10)
        }
    }
}
