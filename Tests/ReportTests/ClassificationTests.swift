import Keyspace
import RESP
import Testing
import UpstashProfile

@testable import Report

@Suite("report: classification, parsing and formats (no server)")
struct ClassificationTests {
    @Test(
        "TYPE replies classify into core, JSON (storable on Upstash), other module and missing types",
        arguments: [
            ("string", KeyType.string), ("hash", .hash), ("list", .list), ("set", .set), ("zset", .zset), ("stream", .stream),
            ("none", .missing), ("ReJSON-RL", .json), ("MBbloom--", .module("MBbloom--")), ("TSDB-TYPE", .module("TSDB-TYPE")),
        ])
    func classifies(_ reply: String, _ expected: KeyType) {
        let type = KeyType(typeReply: .simpleString(Array(reply.utf8)))
        #expect(type == expected)
        #expect(type.isModule == (reply.contains("-") && reply != "ReJSON-RL"))
        #expect(type.isStorable == (!type.isModule && type != .missing))
        #expect(type.name == (expected == .missing ? "none" : reply))
    }

    @Test("an error reply to TYPE counts as a missing key, not a module")
    func typeError() {
        #expect(KeyType(typeReply: .error(Array("ERR no".utf8))) == .missing)
    }

    /// The findings for three keys of one type, and the census.
    static func findings(forType type: String) -> ([Finding], Census) {
        var acc = CensusAccumulator(
            limits: CensusLimits(maxKeyBytes: 32768, maxRecordBytes: 1 << 30, maxRequestBytes: 1 << 30, topKeys: 3, examples: 2))
        acc.begin(database: 0, keysReported: 3, expiresReported: 0)
        for i in 0..<3 {
            acc.add(
                KeyObservation(
                    database: 0, key: Array("doc:\(i)".utf8), type: KeyType(name: Array(type.utf8)), memoryBytes: 100,
                    length: nil, ttlMilliseconds: nil, valueIsUTF8: nil))
        }
        let census = acc.census(sampleSize: nil, seconds: 0)
        let facts = ServerFacts(
            redisVersion: "7", uptimeSeconds: 10, usedMemoryBytes: 1000, keyspace: [], commands: [], cachedScripts: 0,
            functionLibraries: [], modules: ["ReJSON", "bf"])
        let cost = CostEstimate.estimate(facts: facts, largestRecordBytes: 100, migrationCommands: 0, migrationBytes: 0, plan: .payAsYouGo)
        let findings = Findings.build(
            .init(facts: facts, census: census, problems: acc.problems, databaseExamples: [:], cost: cost, plan: .payAsYouGo))
        return (findings, census)
    }

    @Test("a key of a module type Upstash lacks (a Bloom filter) becomes a blocker finding naming the type")
    func moduleFinding() throws {
        let (findings, census) = Self.findings(forType: "MBbloom--")
        let module = try #require(findings.first { $0.id == "module-type" })
        #expect(module.severity == .blocker)
        #expect(module.count == 3)
        #expect(module.items.count == 2)
        #expect(module.title.contains("MBbloom--"))
        #expect(census.types == [TypeTally(type: "MBbloom--", keys: 3, bytes: 300, elements: 0)])
        #expect(findings.first?.severity == .blocker)
    }

    @Test("JSON documents are storable on Upstash: counted as a type, no module-type blocker")
    func jsonIsStorable() {
        let (findings, census) = Self.findings(forType: "ReJSON-RL")
        #expect(!findings.contains { $0.id == "module-type" })
        #expect(census.types == [TypeTally(type: "ReJSON-RL", keys: 3, bytes: 300, elements: 0)])
    }

    @Test(
        "UTF-8 validation accepts text and rejects malformed bytes",
        arguments: [
            (Array("plain".utf8), true), (Array("ключ 🚀".utf8), true), ([0xFF, 0xFE], false), ([0xC3, 0x28], false),
            ([0xED, 0xA0, 0x80], false), ([0xC0, 0xAF], false), ([0xF4, 0x90, 0x80, 0x80], false), ([], true),
        ] as [([UInt8], Bool)])
    func utf8(_ bytes: [UInt8], _ valid: Bool) {
        #expect(ByteText.isValidUTF8(bytes) == valid)
    }

    @Test("a value prefix cut inside a character still counts as UTF-8")
    func truncatedPrefix() {
        let cut = Array(Array("ab🚀".utf8).dropLast(2))
        #expect(!ByteText.isValidUTF8(cut))
        #expect(ByteText.isValidUTF8(cut, allowTruncatedEnd: true))
        #expect(!ByteText.isValidUTF8([0xFF, 0xF0], allowTruncatedEnd: true))
    }

    @Test("escaping keeps UTF-8, escapes other bytes and control characters, and cuts long keys")
    func escaping() {
        #expect(ByteText.escaped([0xFF, 0xFE] + Array("bin".utf8)) == "\\xff\\xfebin")
        #expect(ByteText.escaped(Array("a\tb\\ключ".utf8)) == "a\\tb\\\\ключ")
        let long = ByteText.escaped(Array(repeating: UInt8(ascii: "k"), count: 40000), limit: 10)
        #expect(long == "kkkkkkkkkk… (40000 bytes)")
    }

    @Test("numbers are formatted the same everywhere", arguments: [(0, "0"), (999, "999"), (1000, "1,000"), (1_234_567, "1,234,567")])
    func counts(_ n: Int, _ text: String) {
        #expect(ByteText.count(n) == text)
    }

    @Test("sizes and money")
    func sizes() {
        #expect(ByteText.size(512) == "512 B")
        #expect(ByteText.size(1536) == "1.5 KB")
        #expect(ByteText.size(11 * 1024 * 1024) == "11.0 MB")
        #expect(ByteText.dollars(82.944) == "$82.94")
        #expect(ByteText.dollars(0.0004) == "$0.0004")
    }

    @Test("histograms put values in the first bucket that holds them")
    func histograms() {
        var sizes = Histogram.valueSizes()
        for v in [1, 64, 65, 20_000_000] { sizes.add(v) }
        #expect(sizes.buckets[0].count == 2)
        #expect(sizes.buckets[1].count == 1)
        #expect(sizes.buckets.last?.count == 1)
        var ttl = Histogram.timeToLive()
        for ms: Int64? in [nil, nil, 10, 59_999, 60_000, 3_600_000, 90_000_000] { ttl.addTTL(milliseconds: ms) }
        #expect(ttl.buckets.map(\.count) == [2, 2, 1, 1, 1])
        #expect(ttl.buckets.map(\.label) == ["no TTL", "< 1 min", "< 1 h", "< 1 day", "≥ 1 day"])
    }

    @Test("INFO keyspace and commandstats parse, subcommands included")
    func parsesInfo() {
        let keyspace = ServerFacts.parseKeyspace("# Keyspace\r\ndb0:keys=10,expires=2,avg_ttl=5\r\ndb3:keys=4,expires=0,avg_ttl=0\r\n")
        #expect(keyspace == [KeyspaceEntry(database: 0, keys: 10, expires: 2), KeyspaceEntry(database: 3, keys: 4, expires: 0)])
        let stats = ServerFacts.parseCommandStats(
            "# Commandstats\r\ncmdstat_get:calls=5,usec=1\r\ncmdstat_client|setname:calls=2,usec=1\r\ncmdstat_blpop:calls=7,usec=9,rejected_calls=0\r\n"
        )
        #expect(stats.map(\.command) == ["BLPOP", "GET", "CLIENT SETNAME"])
        #expect(stats.map(\.calls) == [7, 5, 2])
    }

    @Test(
        "refused commands weigh by what they stop the app from doing",
        arguments: [
            ("BLPOP", Severity.blocker), ("WATCH", .blocker), ("MULTI", .warning), ("SELECT", .warning), ("SUBSCRIBE", .warning),
            ("CLIENT SETNAME", .info), ("CONFIG GET", .warning),
        ])
    func commandSeverity(_ command: String, _ severity: Severity) throws {
        let facts = ServerFacts(
            redisVersion: "7", uptimeSeconds: 1, usedMemoryBytes: 0, keyspace: [], commands: [CommandUsage(command: command, calls: 3)],
            cachedScripts: 0, functionLibraries: [], modules: [])
        let findings = Findings.commandFindings(facts)
        let finding = try #require(findings.first)
        #expect(findings.count == 1)
        #expect(finding.severity == severity)
        #expect(finding.count == 3)
        #expect(finding.unit == "calls")
    }

    @Test("GET and SET are not findings")
    func servedCommands() {
        let facts = ServerFacts(
            redisVersion: "7", uptimeSeconds: 1, usedMemoryBytes: 0, keyspace: [],
            commands: [CommandUsage(command: "GET", calls: 3), CommandUsage(command: "EVALSHA", calls: 1)], cachedScripts: 0,
            functionLibraries: [], modules: [])
        #expect(Findings.commandFindings(facts).isEmpty)
    }

    @Test("cost: the rate prices every plan, the free quota caps, and the cheapest fit is chosen")
    func cost() throws {
        let facts = ServerFacts(
            redisVersion: "7", uptimeSeconds: 86_400, usedMemoryBytes: 300 * 1024 * 1024, keyspace: [],
            commands: [CommandUsage(command: "GET", calls: 864_000)], cachedScripts: 0, functionLibraries: [], modules: [])
        let c = CostEstimate.estimate(
            facts: facts, largestRecordBytes: 1000, migrationCommands: 2500, migrationBytes: 25 * 1024 * 1024, plan: .payAsYouGo)
        #expect(c.commandsPerSecond == 10)
        #expect(c.monthlyCommands == 25_920_000)
        let payg = try #require(c.plans.first { $0.plan == "payg" })
        #expect(abs((payg.monthlyCost ?? 0) - 51.84) < 0.001)
        let free = try #require(c.plans.first { $0.plan == "free" })
        #expect(!free.fits && free.monthlyCost == nil && !free.fitsStorage)
        #expect(c.plans.first { $0.plan == "fixed-250mb" }?.fitsStorage == false)
        #expect(c.cheapestFit == "fixed-1gb")
        #expect(c.migration.commands == 2500)
        #expect(c.migration.requests == 3)  // 25 MB over a 10 MB request limit needs 3, more than 2500/1000 rounded up
        #expect(c.migration.seconds == 0.25)
    }
}

@Suite("cost estimate")
struct CostEstimateTests {
    @Test("a server up for less than a second (INFO says 0) still has a command rate")
    func freshServer() {
        let facts = ServerFacts(
            redisVersion: "7", uptimeSeconds: 0, usedMemoryBytes: 1000, keyspace: [], commands: [CommandUsage(command: "SET", calls: 50)],
            cachedScripts: 0, functionLibraries: [], modules: [])
        let cost = CostEstimate.estimate(facts: facts, largestRecordBytes: 10, migrationCommands: 0, migrationBytes: 0, plan: .payAsYouGo)
        #expect(cost.commandsPerSecond == 50)
        #expect(cost.monthlyCommands > 0)
    }
}
