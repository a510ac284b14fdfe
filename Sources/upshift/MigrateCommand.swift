import ArgumentParser
import Foundation
import Migration
import RESP
import RedisClient
import UpstashProfile

/// `upshift migrate`: copy every key, value and absolute expiry from a Redis source into the target.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Copy every key with its value and absolute expiry from a Redis source into an Upstash (REST) target; resumable."
    )

    @OptionGroup var source: SourceOptions
    @OptionGroup var target: TargetOptions
    @OptionGroup var sharding: ShardOption

    @Option(
        help: """
            auto (RESTORE … ABSTTL where the target restores the source's DUMP payloads, one command a key; else struct), \
            struct (type-by-type commands, any target), or dump.
            """)
    var mode: String = "auto"
    @Option(help: "Only keys matching this glob pattern.")
    var match: String?
    @Option(help: "Only keys of this type (string, hash, list, set, zset, stream).")
    var type: String?
    @Option(help: "The source database to read (overrides the URL's); Upstash has only db 0, see --key-prefix.")
    var db: Int?
    @Option(name: .customLong("key-prefix"), help: "Written before every key on the target, e.g. db3: for --db 3.")
    var keyPrefix: String = ""
    @Option(name: .customLong("keys-from"), help: "Copy only the keys listed in this file (one per line, b64: for binary).")
    var keysFrom: String?
    @Option(name: .customLong("on-conflict"), help: "replace, skip or fail when the target already has a key.")
    var onConflict: String = "replace"
    @Option(help: "Batches in flight at once.")
    var concurrency: Int = 4
    @Option(help: "Keys per batch.")
    var batch: Int = 200
    @Option(
        name: .customLong("max-commands-per-second"), help: "Command budget (default: the plan's cap for Upstash cloud, none on localhost)."
    )
    var maxCommandsPerSecond: Int?
    @Option(help: "The Upstash plan whose limits and prices apply: \(UpstashPlan.all.map(\.id).joined(separator: ", ")).")
    var plan: String = "payg"
    @Flag(name: .customLong("dry-run"), help: "Read everything, write nothing, print the plan.")
    var dryRun = false
    @Option(help: "Also write the summary to this file (.json or .md).")
    var report: String?
    @Option(help: "Save progress to this file after every acknowledged batch.")
    var checkpoint: String?
    @Flag(help: "Continue a killed run from --checkpoint.")
    var resume = false
    @Flag(help: "Print the summary as JSON.")
    var json = false

    func validate() throws {
        if resume && checkpoint == nil { throw ValidationError("--resume needs --checkpoint FILE") }
        guard MigrationOptions.Conflict(rawValue: onConflict) != nil else {
            throw ValidationError("--on-conflict is replace, skip or fail")
        }
        guard MigrationOptions.Mode(rawValue: mode) != nil else { throw ValidationError("--mode is struct, dump or auto") }
        guard UpstashPlan.named(plan) != nil else { throw ValidationError("unknown plan '\(plan)'") }
        _ = try sharding.parsed()
        if try source.url() == nil { throw ValidationError("give --source URL (or set REDIS_URL)") }
        if !dryRun, try target.endpoint() == nil {
            throw ValidationError("give --target URL (or set UPSTASH_REDIS_REST_URL), or --dry-run")
        }
    }

    func run() async throws {
        guard var sourceURL = try source.url() else { return }
        if let db { sourceURL.database = db }
        let plan = UpstashPlan.named(plan)!
        var keys: [[UInt8]]? = nil
        if let keysFrom {
            guard let text = try? String(contentsOfFile: keysFrom, encoding: .utf8) else {
                throw CLIError("cannot read --keys-from \(keysFrom)")
            }
            keys = text.split(separator: "\n").filter { !$0.isEmpty }.compactMap { parseDisplayKey($0) }
        }
        let options = MigrationOptions(
            match: match.map { Array($0.utf8) }, type: type, keys: keys, shard: try sharding.parsed(), keyPrefix: Array(keyPrefix.utf8),
            conflict: MigrationOptions.Conflict(rawValue: onConflict)!, mode: MigrationOptions.Mode(rawValue: mode)!, batch: batch,
            concurrency: concurrency, dryRun: dryRun, plan: plan)
        let sourceClient = try await source.backend(sourceURL, connections: 2, shard: try sharding.parsed())
        let targetBackend = dryRun ? nil : try target.backend(plan: plan, maxCommandsPerSecond: maxCommandsPerSecond)
        let migrator = Migrator(
            source: sourceClient, target: targetBackend, targetName: targetBackend?.displayName ?? "(dry run)", options: options,
            checkpointPath: checkpoint)
        let showProgress = !json && isatty(STDERR_FILENO) == 1
        // The total, for the ETA: exact for a whole database, an upper bound with --match or --type.
        var dbSize = keys?.count ?? 0
        if showProgress && keys == nil, let size = try? await sourceClient.send(RESPCommand("DBSIZE")).integer { dbSize = Int(size) }
        let total = dbSize / (try sharding.parsed()?.count ?? 1)
        let started = Date()
        let summary: MigrationSummary
        do {
            summary = try await migrator.run(resume: resume) { s in
                guard showProgress else { return }
                let elapsed = max(0.001, Date().timeIntervalSince(started))
                let rate = Double(s.keysScanned) / elapsed
                let eta = total > s.keysScanned && rate > 0 ? String(format: ", ETA %.0f s", Double(total - s.keysScanned) / rate) : ""
                let share = total > 0 ? String(format: " (%.0f%%)", min(100, Double(s.keysScanned) * 100 / Double(total))) : ""
                let line = String(
                    format: "\r%d keys%@, %.0f keys/s, %.1f MB/s%@   ", s.keysScanned, share, rate, Double(s.bytesRead) / elapsed / 1e6, eta
                )
                FileHandle.standardError.write(Data(line.utf8))
            }
        } catch {
            await sourceClient.close()
            await targetBackend?.close()
            throw error
        }
        if showProgress { FileHandle.standardError.write(Data("\n".utf8)) }
        await sourceClient.close()
        await targetBackend?.close()
        if let report { try write(summary, to: report) }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(summary), as: UTF8.self))
        } else {
            print(summary.render())
        }
        if !summary.isComplete { throw ExitCode(1) }
    }

    private func write(_ summary: MigrationSummary, to path: String) throws {
        let data: Data
        if path.hasSuffix(".md") {
            data = Data(summary.markdown().utf8)
        } else {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            data = try encoder.encode(summary)
        }
        guard FileManager.default.createFile(atPath: path, contents: data) else { throw CLIError("cannot write --report \(path)") }
    }
}
