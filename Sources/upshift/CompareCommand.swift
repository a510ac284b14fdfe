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
        abstract: "Compare source and target key by key, both directions, over several rounds: type, value and absolute expiry.",
        discussion: """
            --sample N checks N random source keys on the target: one direction only, so keys that only the target has are not \
            looked for. Ctrl-C (SIGINT) or SIGTERM finishes the batch in flight, prints the report so far (incomplete) and \
            exits 130 (143).
            """
    )

    @OptionGroup var source: SourceOptions
    @OptionGroup var target: TargetOptions
    @OptionGroup var sharding: ShardOption
    @OptionGroup var retry: RetryOptions

    @Option(help: "Only keys matching this glob pattern.")
    var match: String?
    @Option(help: "Rounds; later rounds re-check only the keys that differed.")
    var rounds: Int = 3
    @Option(help: "Pause between rounds, e.g. 5s or 500ms.")
    var interval: DurationArgument = "5s"
    @Option(help: "Check a random sample of N source keys (source → target only) instead of every key both ways.")
    var sample: Int?
    @Option(name: .customLong("ttl-tolerance-ms"), help: "Expiry times this close count as equal.")
    var ttlToleranceMs: Int64 = 1
    @Option(help: "Also write the report to this file (.json or .md).")
    var report: String?
    @Option(name: .customLong("keys-out"), help: "Write the differing keys here, in the form `upshift migrate --keys-from` reads.")
    var keysOut: String?
    @Option(
        name: .customLong("progress-interval"),
        help: "When the output is not a terminal: one progress line on stderr this often (0: none).")
    var progressInterval: DurationArgument = "5s"
    @Flag(help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        if try source.url() == nil { throw ValidationError("give --source URL (or set REDIS_URL)") }
        if try target.endpoint() == nil { throw ValidationError("give --target URL (or set UPSTASH_REDIS_REST_URL)") }
        if let sample, sample < 1 { throw ValidationError("--sample takes a number of keys, at least 1 (leave it out to check every key)") }
        if rounds < 1 { throw ValidationError("--rounds must be at least 1") }
        if ttlToleranceMs < 0 { throw ValidationError("--ttl-tolerance-ms must be 0 or more") }
        _ = try sharding.parsed()
    }

    func run() async throws {
        guard let sourceURL = try source.url() else { return }
        let shard = try sharding.parsed()
        let sourceClient = try await source.backend(sourceURL, connections: 2, shard: shard)
        let targetBackend: any Backend
        do {
            try await target.preflight(retry: retry)
            targetBackend = try target.backend(plan: .payAsYouGo, retry: retry)
        } catch {
            await sourceClient.close()
            throw error
        }
        let options = CompareOptions(
            match: match.map { Array($0.utf8) }, shard: shard, rounds: rounds, interval: interval.seconds, sample: sample,
            ttlToleranceMs: ttlToleranceMs)
        let comparer = Comparer(source: sourceClient, target: targetBackend, options: options)
        // Both directions read every key once: the ETA's total is the two sizes (the sample's size for a sample).
        var total = sample
        if total == nil, match == nil {
            let s = try? await sourceClient.send(RESPCommand("DBSIZE")).integer
            let t = try? await targetBackend.send(RESPCommand("DBSIZE")).integer
            if let s = s ?? nil, let t = t ?? nil { total = Int(s + t) / (shard?.count ?? 1) }
        }
        let progress = ProgressLine(label: "compare", style: .choose(json: json, interval: progressInterval.duration), total: total)
        let interruption = Interruption { _ in comparer.stop() }
        let keysPath = keysOut
        let result: CompareReport
        do {
            result = try await comparer.run(
                progress: { progress.update(keys: $0) },
                keysOut: { keys in
                    guard let keysPath else { return }
                    let text = keys.map(displayKey).sorted().joined(separator: "\n") + (keys.isEmpty ? "" : "\n")
                    guard FileManager.default.createFile(atPath: keysPath, contents: Data(text.utf8)) else {
                        throw CLIError("cannot write --keys-out \(keysPath)")
                    }
                })
        } catch {
            progress.finish()
            await sourceClient.close()
            await targetBackend.close()
            throw error
        }
        progress.finish()
        await sourceClient.close()
        await targetBackend.close()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        if let report {
            let data = report.hasSuffix(".md") ? Data(result.markdown().utf8) : try encoder.encode(result)
            guard FileManager.default.createFile(atPath: report, contents: data) else { throw CLIError("cannot write --report \(report)") }
        }
        print(json ? String(decoding: try encoder.encode(result), as: UTF8.self) : result.render())
        if result.interrupted {
            FileHandle.standardError.write(
                Data("upshift: interrupted by \(interruption.name): the comparison is incomplete; run it again\n".utf8))
            throw interruption.exitCode
        }
        if !result.isClean { throw ExitCode(1) }
    }
}
