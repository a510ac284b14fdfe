import ArgumentParser
import Compare
import Foundation
import RESP
import RedisClient
import UpstashProfile

/// `upshift compare`: key-by-key proof that the copy is complete.
struct CompareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare source and target key by key, both directions, over several rounds: type, value and absolute expiry."
    )

    @OptionGroup var source: SourceOptions
    @OptionGroup var target: TargetOptions
    @OptionGroup var sharding: ShardOption

    @Option(help: "Only keys matching this glob pattern.")
    var match: String?
    @Option(help: "Rounds; later rounds re-check only the keys that differed.")
    var rounds: Int = 3
    @Option(help: "Pause between rounds, e.g. 5s or 500ms.")
    var interval: String = "5s"
    @Option(help: "Check a random sample of N source keys instead of all.")
    var sample: Int?
    @Option(name: .customLong("ttl-tolerance-ms"), help: "Expiry times this close count as equal.")
    var ttlToleranceMs: Int64 = 1
    @Option(help: "Also write the report to this file (.json or .md).")
    var report: String?
    @Option(name: .customLong("keys-out"), help: "Write the differing keys here, in the form `upshift migrate --keys-from` reads.")
    var keysOut: String?
    @Flag(help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        if try source.url() == nil { throw ValidationError("give --source URL (or set REDIS_URL)") }
        if try target.endpoint() == nil { throw ValidationError("give --target URL (or set UPSTASH_REDIS_REST_URL)") }
        if intervalSeconds == nil { throw ValidationError("--interval takes a duration such as 5s or 500ms") }
        _ = try sharding.parsed()
    }

    var intervalSeconds: Double? {
        if interval.hasSuffix("ms") { return Double(interval.dropLast(2)).map { $0 / 1000 } }
        if interval.hasSuffix("s") { return Double(interval.dropLast()) }
        return Double(interval)
    }

    func run() async throws {
        guard let sourceURL = try source.url() else { return }
        let sourceClient = RedisClient(url: sourceURL, connections: 2)
        let targetBackend = try target.backend(plan: .payAsYouGo)
        let options = CompareOptions(
            match: match.map { Array($0.utf8) }, shard: try sharding.parsed(), rounds: rounds, interval: intervalSeconds ?? 5,
            sample: sample,
            ttlToleranceMs: ttlToleranceMs)
        let keysPath = keysOut
        let result: CompareReport
        do {
            result = try await Comparer(source: sourceClient, target: targetBackend, options: options).run { keys in
                guard let keysPath else { return }
                let text = keys.map(displayKey).sorted().joined(separator: "\n") + (keys.isEmpty ? "" : "\n")
                guard FileManager.default.createFile(atPath: keysPath, contents: Data(text.utf8)) else {
                    throw CLIError("cannot write --keys-out \(keysPath)")
                }
            }
        } catch {
            await sourceClient.close()
            await targetBackend.close()
            throw error
        }
        await sourceClient.close()
        await targetBackend.close()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        if let report {
            let data = report.hasSuffix(".md") ? Data(result.markdown().utf8) : try encoder.encode(result)
            guard FileManager.default.createFile(atPath: report, contents: data) else { throw CLIError("cannot write --report \(report)") }
        }
        print(json ? String(decoding: try encoder.encode(result), as: UTF8.self) : result.render())
        if !result.isClean { throw ExitCode(1) }
    }
}
