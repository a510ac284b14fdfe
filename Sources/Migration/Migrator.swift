import Foundation
import Logging
import RESP
import RedisClient
import UpstashProfile

/// Copies keys from a Redis source into a target: scan → probe (type, absolute expiry, size)
/// → read → one idempotent write command per key → checkpoint.
public final class Migrator: Sendable {
    public let source: any Backend
    /// nil for a dry run.
    public let target: (any Backend)?
    public let options: MigrationOptions
    let logger: Logger
    let reader: KeyReader
    let checkpointPath: String?
    let targetName: String

    public init(
        source: any Backend, target: (any Backend)?, targetName: String, options: MigrationOptions, checkpointPath: String? = nil,
        logger: Logger = Logger(label: "upshift.migrate")
    ) {
        self.source = source
        self.target = target
        self.targetName = targetName
        self.options = options
        self.checkpointPath = checkpointPath
        self.logger = logger
        self.reader = KeyReader(source: source, options: options)
    }

    /// Runs the copy (or the dry run); `resume` continues from the checkpoint file.
    /// `progress` is called after each batch with the running totals.
    public func run(resume: Bool = false, progress: @Sendable (MigrationSummary) -> Void = { _ in }) async throws -> MigrationSummary {
        let started = ContinuousClock.now
        var summary = MigrationSummary()
        summary.dryRun = options.dryRun
        summary.shard = options.shard?.description
        summary.plan = options.plan.id
        var cursor: [UInt8] = Array("0".utf8)
        var offset = 0
        if resume, let path = checkpointPath {
            let cp = try Checkpoint.load(from: path)
            guard cp.source == source.displayName, cp.target == targetName, cp.selection == selection else {
                throw MigrationError("checkpoint \(path) is for another run (\(cp.source) → \(cp.target), \(cp.selection))")
            }
            if cp.done { return cp.summary }
            summary = cp.summary
            cursor = Array(cp.cursor.utf8)
            offset = cp.offset
        }
        let probeSha = try await loadScript(Scripts.probe, on: source)
        let writeSha = options.dryRun ? [] : try await loadScript(Scripts.write, on: target!)
        let dump = try await useDump()
        let context = BatchContext(probeSha: probeSha, writeSha: writeSha, dump: dump)
        let pageSize = options.batch * options.concurrency

        while true {
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
            summary.estimatedSeconds = Double(summary.commandsSent) / Double(options.plan.commandsPerSecond)
            if case .perCommand(let per100K) = options.plan.pricing {
                summary.estimatedCostDollars = Double(summary.commandsSent) / 100_000 * per100K
            }
        }
        return summary
    }

    var selection: String {
        let shard = options.shard.map { " shard=\($0)" } ?? ""
        return
            "match=\(options.match.map { displayKey($0) } ?? "*") type=\(options.type ?? "any") keys-from=\(options.keys?.count ?? 0) prefix=\(displayKey(options.keyPrefix))\(shard)"
    }

    private func saveCheckpoint(cursor: [UInt8], offset: Int, done: Bool, summary: MigrationSummary) throws {
        guard let path = checkpointPath else { return }
        try Checkpoint(
            source: source.displayName, target: targetName, selection: selection, cursor: String(decoding: cursor, as: UTF8.self),
            offset: offset, done: done, summary: summary
        ).save(to: path)
    }

    struct BatchContext: Sendable {
        let probeSha: [UInt8]
        let writeSha: [UInt8]
        let dump: Bool
    }

    private func loadScript(_ text: String, on backend: any Backend) async throws -> [UInt8] {
        let reply = try await backend.send(RESPCommand("SCRIPT", "LOAD", text))
        guard case .bulkString(let sha?) = reply else {
            throw MigrationError("\(backend.displayName): cannot load the migration script: \(reply)")
        }
        return sha
    }

    /// `--mode auto`: DUMP/RESTORE when the target restores what the source dumps, else struct.
    private func useDump() async throws -> Bool {
        switch options.mode {
        case .struct: return false
        case .dump: return true
        case .auto:
            guard let target, !options.dryRun else { return false }
            let probeKey = Array("upshift:probe:dump".utf8)
            _ = try await source.send(RESPCommand("SET", probeKey, "x", "PX", 10_000))
            let dumped = try await source.send(RESPCommand("DUMP", probeKey))
            guard let payload = dumped.bytes else { return false }
            var p = Payload()
            p.append(payload)
            let restored = try await target.send(
                RESPCommand(
                    "EVAL", Scripts.write, 2, probeKey, probeKey, "restore", "restore", Date().unixMilliseconds + 10_000, "replace", p.bytes
                ))
            _ = try? await target.send(RESPCommand("DEL", probeKey))
            return restored == .integer(1)
        }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

extension Date {
    var unixMilliseconds: Int64 { Int64(timeIntervalSince1970 * 1000) }
}
