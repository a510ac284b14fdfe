import Foundation
import RESP
import RedisClient
import UpstashProfile

/// What to measure and against which plan.
public struct ReportOptions: Sendable {
    /// The plan whose limits the keys are checked against.
    public var plan: UpstashPlan
    /// Read only about this many keys (spread over the databases by size) and extrapolate; nil reads every key.
    public var sample: Int?
    /// How many of the biggest keys to list.
    public var topKeys: Int
    /// Keys per SCAN page, and so per pipelined probe.
    public var scanCount: Int
    /// Example keys or commands per finding.
    public var examples: Int
    /// Read regions of a global database, priced in (each bills the writes again).
    public var readRegions: Int

    public init(
        plan: UpstashPlan = .payAsYouGo, sample: Int? = nil, topKeys: Int = 10, scanCount: Int = 1000, examples: Int = 5,
        readRegions: Int = 0
    ) {
        self.plan = plan
        self.readRegions = readRegions
        self.sample = sample
        self.topKeys = topKeys
        self.scanCount = scanCount
        self.examples = examples
    }
}

/// Findings by severity.
public struct FindingCounts: Codable, Sendable, Hashable {
    public var blockers: Int
    public var warnings: Int
    public var infos: Int
}

/// The dry-run report: can this Redis usage run on Upstash, on which plan, for how much,
/// and what has to change. Its JSON form (this struct, encoded) is a stable schema.
public struct Report: Codable, Sendable, Hashable {
    /// Bumped when a field changes meaning or goes away; new fields do not bump it.
    public static let currentSchemaVersion = 1

    public var schemaVersion: Int
    /// ISO 8601, UTC.
    public var generatedAt: String
    /// The source URL, password removed.
    public var source: String
    /// The id of the plan the keys were checked against.
    public var plan: String
    public var server: ServerFacts
    public var census: Census
    /// Blockers first, then warnings, then information.
    public var findings: [Finding]
    public var cost: CostEstimate
    public var counts: FindingCounts

    /// True when a blocker was found: the CLI exits non-zero.
    public var hasBlockers: Bool { counts.blockers > 0 }

    /// Reads the source (INFO, then a SCAN census of every database with keys) and assembles the report.
    /// A Redis Cluster is read whole: facts from every master, added up, and a census of every shard
    /// (from the replicas with `readFrom: .replicas`).
    /// `progress` is told the keys read so far and the keys the server reports.
    public static func run(
        source: RedisURL, readFrom: ReadFrom = .masters, options: ReportOptions = .init(),
        progress: (@Sendable (_ scanned: Int, _ total: Int) -> Void)? = nil
    ) async throws -> Report {
        let clientOptions = RedisConnectionOptions(readTimeout: .seconds(120))
        guard try await RedisClusterClient.isCluster(source, options: clientOptions) else {
            return try await run(source: source, cluster: nil, options: options, progress: progress)
        }
        let cluster = try await RedisClusterClient.connect(seed: source, readFrom: readFrom, options: clientOptions)
        do {
            let report = try await run(source: source, cluster: cluster, options: options, progress: progress)
            await cluster.close()
            return report
        } catch {
            await cluster.close()
            throw error
        }
    }

    private static func run(
        source: RedisURL, cluster: RedisClusterClient?, options: ReportOptions, progress: (@Sendable (Int, Int) -> Void)?
    ) async throws -> Report {
        let start = ContinuousClock.now
        let facts: ServerFacts
        if let cluster {
            var perMaster: [ServerFacts] = []
            for master in await cluster.currentTopology.shards.map(\.master) {
                perMaster.append(try await withClient(cluster.url(of: master), database: 0) { try await ServerFacts.gather(from: $0) })
            }
            facts = ServerFacts.merged(perMaster)
        } else {
            facts = try await withClient(source, database: source.database) { try await ServerFacts.gather(from: $0) }
        }
        let reported = facts.keyspace.reduce(0) { $0 + $1.keys }
        let target = options.sample.map { min($0, reported) } ?? reported
        var accumulator = CensusAccumulator(
            limits: CensusLimits(
                maxKeyBytes: UpstashCompatibility.maxKeyBytes, maxRecordBytes: options.plan.maxRecordBytes,
                maxRequestBytes: options.plan.maxRequestBytes, topKeys: options.topKeys, examples: options.examples))
        let counter = ProgressCounter()
        for entry in facts.keyspace where entry.keys > 0 {
            accumulator.begin(database: entry.database, keysReported: entry.keys, expiresReported: entry.expires)
            let limit = options.sample.map { sample in
                max(1, Int((Double(sample) * Double(entry.keys) / Double(max(reported, 1))).rounded(.up)))
            }
            if let cluster {
                let scanner = KeyspaceScanner(backend: cluster, database: 0, scanCount: options.scanCount, limit: limit)
                try await scanner.run(into: &accumulator) { n in progress?(counter.add(n), target) }
            } else {
                try await withClient(source, database: entry.database) { client in
                    let scanner = KeyspaceScanner(backend: client, database: entry.database, scanCount: options.scanCount, limit: limit)
                    try await scanner.run(into: &accumulator) { n in progress?(counter.add(n), target) }
                }
            }
        }
        let elapsed = start.duration(to: .now)
        let census = accumulator.census(
            sampleSize: options.sample,
            seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        let migration = accumulator.migrationTotals
        let cost = CostEstimate.estimate(
            facts: facts, largestRecordBytes: accumulator.problems.largestRecordBytes, migrationCommands: migration.commands,
            migrationBytes: migration.bytes, plan: options.plan, readRegions: options.readRegions)
        let findings = Findings.build(
            .init(
                facts: facts, census: census, problems: accumulator.problems, databaseExamples: accumulator.databaseExamples, cost: cost,
                plan: options.plan))
        let formatter = ISO8601DateFormatter()
        return Report(
            schemaVersion: currentSchemaVersion, generatedAt: formatter.string(from: Date()), source: source.description,
            plan: options.plan.id, server: facts, census: census, findings: findings, cost: cost,
            counts: FindingCounts(
                blockers: findings.filter { $0.severity == .blocker }.count, warnings: findings.filter { $0.severity == .warning }.count,
                infos: findings.filter { $0.severity == .info }.count))
    }

    private static func withClient<T: Sendable>(
        _ source: RedisURL, database: Int, _ body: (RedisClient) async throws -> T
    ) async throws -> T {
        var url = source
        url.database = database
        let client = RedisClient(url: url, options: RedisConnectionOptions(readTimeout: .seconds(120)))
        do {
            let result = try await body(client)
            await client.close()
            return result
        } catch {
            await client.close()
            throw error
        }
    }
}

/// Keys read so far, shared with the progress callback.
final class ProgressCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    func add(_ n: Int) -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += n
        return value
    }
}
