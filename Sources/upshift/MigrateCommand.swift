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
        abstract: "Copy every key with its value and absolute expiry from a Redis source into an Upstash (REST) target; resumable.",
        discussion: """
            With --checkpoint, progress is saved after every batch. Ctrl-C (SIGINT) or SIGTERM finishes the batch in flight, \
            saves the checkpoint, prints the summary so far and exits 130 (143); --resume continues from there. A checkpoint \
            that exists already is never started over silently: give --resume to continue it or --restart to copy (and pay \
            for) everything again.
            """
    )

    @OptionGroup var source: SourceOptions
    @OptionGroup var target: TargetOptions
    @OptionGroup var sharding: ShardOption
    @OptionGroup var retry: RetryOptions

    @Option(
        help: """
            auto (RESTORE … ABSTTL where the target restores the source's DUMP payloads, one command a key; else struct), \
            struct (type-by-type commands, any target), or dump.
            """)
    var mode: MigrationOptions.Mode = .auto
    @Option(help: "Only keys matching this glob pattern.")
    var match: String?
    @Option(help: "Only keys of this type (SCAN's TYPE filter).")
    var type: KeyTypeArgument?
    @Option(help: "The source database to read (overrides the URL's); Upstash has only db 0, see --key-prefix.")
    var db: Int?
    @Option(name: .customLong("key-prefix"), help: "Written before every key on the target, e.g. db3: for --db 3.")
    var keyPrefix: String = ""
    @Option(name: .customLong("keys-from"), help: "Copy only the keys listed in this file (one per line, b64: for binary).")
    var keysFrom: String?
    @Option(name: .customLong("on-conflict"), help: "What to do when the target already has a key.")
    var onConflict: MigrationOptions.Conflict = .replace
    @Option(help: "Batches in flight at once.")
    var concurrency: Int = 4
    @Option(help: "Keys per batch.")
    var batch: Int = 200
    @Option(
        name: .customLong("max-commands-per-second"), help: "Command budget (default: the plan's cap for Upstash cloud, none on localhost)."
    )
    var maxCommandsPerSecond: Int?
    @Option(help: "The Upstash plan whose limits and prices apply.")
    var plan: UpstashPlan = .payAsYouGo
    @Flag(name: .customLong("dry-run"), help: "Read everything, write nothing (not even a checkpoint), print the plan.")
    var dryRun = false
    @Option(help: "Also write the summary to this file (.json or .md).")
    var report: String?
    @Option(help: "Save progress to this file after every acknowledged batch.")
    var checkpoint: String?
    @Flag(help: "Continue the run recorded in --checkpoint (killed, interrupted, or failed).")
    var resume = false
    @Flag(help: "Discard the run recorded in --checkpoint and copy everything again (Upstash bills every command again).")
    var restart = false
    @Option(
        name: .customLong("progress-interval"),
        help: "When the output is not a terminal: one progress line on stderr this often (0: none).")
    var progressInterval: DurationArgument = "5s"
    @Flag(help: "Print the summary as JSON.")
    var json = false

    func validate() throws {
        if resume && restart { throw ValidationError("--resume continues the checkpoint's run, --restart discards it: give one") }
        if (resume || restart) && checkpoint == nil { throw ValidationError("--\(resume ? "resume" : "restart") needs --checkpoint FILE") }
        if dryRun && checkpoint != nil {
            throw ValidationError("--dry-run writes nothing, not even a checkpoint: leave out --checkpoint")
        }
        if batch < 1 || concurrency < 1 { throw ValidationError("--batch and --concurrency must be at least 1") }
        if let maxCommandsPerSecond, maxCommandsPerSecond < 1 { throw ValidationError("--max-commands-per-second must be at least 1") }
        if let db, db < 0 { throw ValidationError("--db must be 0 or more") }
        _ = try sharding.parsed()
        if try source.url() == nil { throw ValidationError("give --source URL (or set REDIS_URL)") }
        if !dryRun, try target.endpoint() == nil {
            throw ValidationError("give --target URL (or set UPSTASH_REDIS_REST_URL), or --dry-run")
        }
    }

    func run() async throws {
        guard var sourceURL = try source.url() else { return }
        if let db { sourceURL.database = db }
        var keys: [[UInt8]]? = nil
        if let keysFrom {
            guard let text = try? String(contentsOfFile: keysFrom, encoding: .utf8) else {
                throw CLIError("cannot read --keys-from \(keysFrom)")
            }
            keys = text.split(separator: "\n").filter { !$0.isEmpty }.compactMap { parseDisplayKey($0) }
        }
        let shard = try sharding.parsed()
        let options = MigrationOptions(
            match: match.map { Array($0.utf8) }, type: type?.rawValue, keys: keys, shard: shard, keyPrefix: Array(keyPrefix.utf8),
            conflict: onConflict, mode: mode, batch: batch, concurrency: concurrency, dryRun: dryRun, plan: plan)
        let sourceClient = try await source.backend(sourceURL, connections: 2, shard: shard)
        let targetBackend: (any Backend)?
        do {
            if !dryRun { try await target.preflight(retry: retry) }
            targetBackend = dryRun ? nil : try target.backend(plan: plan, maxCommandsPerSecond: maxCommandsPerSecond, retry: retry)
        } catch {
            await sourceClient.close()
            throw error
        }
        let migrator = Migrator(
            source: sourceClient, target: targetBackend, targetName: targetBackend?.displayName ?? "(dry run)", options: options,
            checkpointPath: checkpoint)
        // The total, for the ETA: exact for a whole database (or a --keys-from list); unknown with --match or --type.
        var total = keys?.count
        if total == nil, match == nil, type == nil, let size = try? await sourceClient.send(RESPCommand("DBSIZE")).integer {
            total = Int(size) / (shard?.count ?? 1)
        }
        let progress = ProgressLine(label: "migrate", style: .choose(json: json, interval: progressInterval.duration), total: total)
        let interruption = Interruption { _ in migrator.stop() }
        let start: Migrator.Start = resume ? .resume : restart ? .restart : .fresh
        let summary: MigrationSummary
        var stopped: MigrationInterrupted?
        do {
            summary = try await migrator.run(start) { s in progress.update(keys: s.keysScanned, bytes: s.bytesRead) }
        } catch let interrupted as MigrationInterrupted {
            summary = interrupted.summary
            stopped = interrupted
        } catch {
            progress.finish()
            await sourceClient.close()
            await targetBackend?.close()
            throw error
        }
        progress.finish()
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
        if let stopped {
            FileHandle.standardError.write(Data("upshift: interrupted by \(interruption.name): \(stopped)\n".utf8))
            throw interruption.exitCode
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
