import Foundation
import Keyspace
import RESP
import RedisClient
import UpstashClient
import UpstashProfile

/// Copies keys from a Redis source into a target: scan → probe (type, absolute expiry, size) →
/// read → the fewest billed commands that write each key → checkpoint.
///
/// No single key stops a run: one the target cannot hold is skipped with its reason, one the
/// target refuses is counted as failed, and the rest are copied; the summary lists them all.
public final class Migrator: Sendable {
    public let source: any Backend
    /// nil for a dry run.
    public let target: (any Backend)?
    public let options: MigrationOptions
    let reader: KeyReader
    let checkpointPath: String?
    let targetName: String
    let restoreSupport = RestoreSupport()
    let stopRequested = StopFlag()

    public init(
        source: any Backend, target: (any Backend)?, targetName: String, options: MigrationOptions, checkpointPath: String? = nil
    ) {
        self.source = source
        self.target = target
        self.targetName = targetName
        self.options = options
        self.checkpointPath = checkpointPath
        self.reader = KeyReader(source: source, options: options)
    }

    /// What to do with the checkpoint file a run is given.
    public enum Start: Sendable, Hashable {
        /// A new copy: refused when the file holds a checkpoint already, since running again
        /// would bill every command again.
        case fresh
        /// Continue the copy the checkpoint records; refused when it recorded other options.
        case resume
        /// Start over, discarding the checkpoint (the keys are copied, and billed, again).
        case restart
    }

    /// Runs the copy (or the dry run); `start` says what to do with an existing checkpoint.
    /// `progress` is called after each batch with the running totals.
    ///
    /// After `stop()` the batches in flight finish, the checkpoint is saved and this throws
    /// `MigrationInterrupted` with the totals so far.
    public func run(_ start: Start = .fresh, progress: @Sendable (MigrationSummary) -> Void = { _ in }) async throws -> MigrationSummary {
        let started = ContinuousClock.now
        var summary = MigrationSummary()
        summary.dryRun = options.dryRun
        summary.shard = options.shard?.description
        summary.plan = options.plan.id
        var cursor: [UInt8] = Array("0".utf8)
        var offset = 0
        if let path = checkpointPath {
            switch start {
            case .resume:
                let cp = try Checkpoint.load(from: path)
                let differences = cp.differences(from: settings, source: source.displayName, target: targetName, selection: selection)
                guard differences.isEmpty else {
                    throw MigrationError(
                        "checkpoint \(path) is for another run: \(differences.joined(separator: "; ")). "
                            + "Resume with the checkpoint's options, or --restart to start over")
                }
                if cp.done { return cp.summary }
                summary = cp.summary
                cursor = Array(cp.cursor.utf8)
                offset = cp.offset
            case .fresh:
                if let cp = try Checkpoint.loadIfPresent(from: path) {
                    let state =
                        cp.done
                        ? "a finished copy (\(cp.summary.keysCopied) keys)"
                        : "a copy that stopped after \(cp.summary.keysCopied) keys"
                    throw MigrationError(
                        "checkpoint \(path) records \(state); running again would copy, and bill, every key again: "
                            + "--resume continues it, --restart starts over")
                }
            case .restart:
                if FileManager.default.fileExists(atPath: path), unlink(path) != 0 {
                    throw MigrationError("cannot remove checkpoint \(path) to restart")
                }
            }
        }
        // A REST client counts the requests it sends: the run's share is what it sent since now.
        let requestsBefore = options.dryRun ? nil : target?.requestsSent
        let resumedRequests = summary.requests
        func countRequests(_ s: inout MigrationSummary) {
            if let before = requestsBefore, let now = target?.requestsSent { s.requests = resumedRequests + now - before }
        }
        var setup = MigrationSummary()
        let context = try await prepare(&setup)
        summary.add(setup)
        let pageSize = options.batch * options.concurrency

        while true {
            if stopRequested.isSet { throw MigrationInterrupted(summary: summary, checkpointPath: checkpointPath) }
            var keys: [[UInt8]]
            var next: [UInt8] = Array("0".utf8)
            if let list = options.keys {
                keys = Array(list[min(offset, list.count)..<min(offset + pageSize, list.count)])
            } else {
                var args: [any RESPArgumentConvertible] = [cursor]
                if let m = options.match { args += ["MATCH", m] }
                args += ["COUNT", pageSize]
                if let t = options.type { args += ["TYPE", t] }
                let reply = try await source.send(RESPCommand("SCAN", arguments: args))
                guard let parts = reply.array, parts.count == 2, let n = parts[0].bytes, let page = parts[1].array else {
                    throw MigrationError("\(source.displayName): unexpected SCAN reply: \(reply)")
                }
                keys = page.compactMap(\.bytes)
                next = n
            }
            offset += keys.count
            if let shard = options.shard { keys = keys.filter(shard.contains) }
            let batches = stride(from: 0, to: keys.count, by: options.batch).map { Array(keys[$0..<min($0 + options.batch, keys.count)]) }
            let results = try await withThrowingTaskGroup(of: MigrationSummary.self) { group in
                for b in batches { group.addTask { try await self.copy(b, context) } }
                var total = MigrationSummary()
                for try await r in group { total.add(r) }
                return total
            }
            summary.add(results)
            countRequests(&summary)
            summary.seconds = (ContinuousClock.now - started).seconds
            let finished = options.keys.map { offset >= $0.count } ?? (next == Array("0".utf8))
            cursor = next
            if options.conflict == .fail && summary.existing > 0 {
                throw MigrationError("a key already exists on the target and --on-conflict is fail")
            }
            try saveCheckpoint(cursor: cursor, offset: offset, done: finished, summary: summary)
            progress(summary)
            if finished { break }
        }
        summary.seconds = (ContinuousClock.now - started).seconds
        if options.dryRun {
            if options.mode == .auto {
                summary.assumption =
                    "assumes the target restores the source's DUMP payloads, as Upstash documents; --mode struct prices the fallback"
            }
            summary.estimatedSeconds = Double(summary.billedCommands) / Double(options.plan.commandsPerSecond)
            if case .perCommand(let per100K) = options.plan.pricing {
                summary.estimatedCostDollars = Double(summary.billedCommands) / 100_000 * per100K
            }
        }
        return summary
    }

    /// Asks a running copy to stop after the batches in flight; `run` then saves the checkpoint and
    /// throws `MigrationInterrupted`. Safe to call from any thread, any number of times.
    public func stop() {
        stopRequested.set()
    }

    /// The options a checkpoint records, by flag: a resume must give the same.
    var settings: [String: String] {
        var out = [
            "--source": source.displayName, "--target": targetName, "--match": options.match.map { displayKey($0) } ?? "*",
            "--type": options.type ?? "any", "--key-prefix": displayKey(options.keyPrefix), "--shard": options.shard?.description ?? "all",
            "--dry-run": options.dryRun ? "yes" : "no",
        ]
        if let keys = options.keys { out["--keys-from"] = "\(keys.count) keys (digest \(Self.digest(keys)))" }
        return out
    }

    /// FNV-1a over a key list, so a resume with another list of the same length is caught.
    static func digest(_ keys: [[UInt8]]) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for key in keys {
            for b in key + [0x0A] {
                h ^= UInt64(b)
                h = h &* 0x100_0000_01b3
            }
        }
        return String(h, radix: 16)
    }

    var selection: String {
        let shard = options.shard.map { " shard=\($0)" } ?? ""
        return
            "match=\(options.match.map { displayKey($0) } ?? "*") type=\(options.type ?? "any") keys-from=\(options.keys?.count ?? 0) prefix=\(displayKey(options.keyPrefix))\(shard)"
    }

    private func saveCheckpoint(cursor: [UInt8], offset: Int, done: Bool, summary: MigrationSummary) throws {
        guard let path = checkpointPath else { return }
        try Checkpoint(
            source: source.displayName, target: targetName, selection: selection, settings: settings,
            cursor: String(decoding: cursor, as: UTF8.self),
            offset: offset, done: done, summary: summary
        ).save(to: path)
    }

    /// What every batch shares: the scripts' digests, how writes are planned and packed.
    struct BatchContext: Sendable {
        let probeSha: [UInt8]
        let script: LoadedWriteScript
        let planner: WritePlanner
        let packer: ScriptCallPacker
    }

    /// Loads the probe on the source and the write script on the target (with Upstash's
    /// key-locking flag where the target takes it). What this sends to the target is billed too.
    private func prepare(_ s: inout MigrationSummary) async throws -> BatchContext {
        let probeSha = try await loadScript(KeyProbe.script, on: source)
        var script = LoadedWriteScript(keyLocking: nil, plain: [])
        let rest = !(target?.carriesBinary ?? false)
        if let target, !options.dryRun {
            let flagged = WriteScript.text(keyLocking: true)
            let loads = try await target.send(batch: [
                RESPCommand("SCRIPT", "LOAD", WriteScript.text(keyLocking: false)), RESPCommand("SCRIPT", "LOAD", flagged),
            ])
            s.billedCommands += 2
            if target.requestsSent == nil { s.requests += 1 }
            guard case .bulkString(let plain?) = loads[0] else {
                throw MigrationError("\(target.displayName): cannot load the migration script: \(loads[0])")
            }
            script.plain = plain
            // Stock Redis refuses the flag (`Unexpected flag in script shebang`): then every call goes without it.
            if case .bulkString(let locked?) = loads[1] { script.keyLocking = locked }
        }
        let budget = max(16 * 1024, min(options.chunkBytes, options.plan.maxRequestBytes - 256 * 1024))
        let planner = WritePlanner(budget: budget, rest: rest, skip: options.conflict != .replace)
        return BatchContext(probeSha: probeSha, script: script, planner: planner, packer: ScriptCallPacker(script: script, budget: budget))
    }

    private func loadScript(_ text: String, on backend: any Backend) async throws -> [UInt8] {
        let reply = try await backend.send(RESPCommand("SCRIPT", "LOAD", text))
        guard case .bulkString(let sha?) = reply else {
            throw MigrationError("\(backend.displayName): cannot load the migration script: \(reply)")
        }
        return sha
    }

    /// `--mode auto`: whether the target restores the source's DUMP payloads, tried once with
    /// `payload` under a scratch key; the answer is kept for the run. The commands it cost are added to `s`.
    func targetRestores(_ payload: [UInt8], _ s: inout MigrationSummary) async -> Bool {
        guard let target else { return false }
        let (restores, probed) = await restoreSupport.decide {
            let probe = Array("upshift:probe:restore".utf8)
            let replies = try? await target.send(batch: [
                RESPCommand("RESTORE", probe, Date().unixMilliseconds + 60_000, payload, "REPLACE", "ABSTTL"), RESPCommand("DEL", probe),
            ])
            // OK is a status over RESP and a string in REST's JSON
            return replies?.first?.bytes == Array("OK".utf8)
        }
        if probed {
            // RESTORE's payload is binary: over REST it runs inside an EVAL (2 billed), then the DEL.
            s.billedCommands += target.carriesBinary ? 2 : 3
            if target.requestsSent == nil { s.requests += 1 }
        }
        return restores
    }
}

/// Set once by `stop()`, read between pages of the run loop.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}

/// The `--mode auto` decision, made once by whichever batch gets there first.
actor RestoreSupport {
    private var decision: Task<Bool, Never>?

    /// The decision, and whether this call was the one that made it.
    func decide(_ probe: @escaping @Sendable () async -> Bool) async -> (Bool, Bool) {
        if let decision { return (await decision.value, false) }
        let task = Task { await probe() }
        decision = task
        return (await task.value, true)
    }

    /// What was decided, if anything yet.
    var decided: Bool? {
        get async {
            guard let decision else { return nil }
            return await decision.value
        }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

extension Date {
    var unixMilliseconds: Int64 { Int64(timeIntervalSince1970 * 1000) }
}
