import Foundation
import RESP
import UpstashProfile

extension Migrator {
    /// Copies one batch of keys; small keys in one pipelined read and one pipelined write,
    /// big keys chunk by chunk under a temporary key renamed at the end.
    func copy(_ keys: [[UInt8]], _ ctx: BatchContext) async throws -> MigrationSummary {
        var s = MigrationSummary()
        s.keysScanned = keys.count
        guard !keys.isEmpty else { return s }
        let probe = try await source.send(
            RESPCommand("EVALSHA", arguments: [ctx.probeSha, keys.count] + keys + [options.dryRun ? "1" : "0"]))
        guard let rows = probe.array, rows.count == keys.count else {
            throw MigrationError("\(source.displayName): probe failed: \(probe)")
        }
        let now = Date().unixMilliseconds
        var small: [KeyMeta] = []
        var big: [KeyMeta] = []
        var deletions: [RESPCommand] = []
        for (key, row) in zip(keys, rows) {
            guard let meta = KeyMeta.parse(key: key, row) else {
                s.failed += 1
                continue
            }
            if meta.isGone || (meta.expireAt > 0 && meta.expireAt <= now) {
                // A listed key the source no longer has is reconciled by removing it from the target.
                if options.keys != nil {
                    deletions.append(RESPCommand("DEL", options.keyPrefix + key))
                } else {
                    s.expiredDuringCopy += 1
                }
                continue
            }
            guard KeyMeta.copyableTypes.contains(meta.type) else {
                s.skip(key, "type '\(meta.type)' (a module type) cannot be stored on Upstash")
                continue
            }
            let targetKey = options.keyPrefix + key
            if targetKey.count > UpstashCompatibility.maxKeyBytes {
                s.skip(key, "key of \(targetKey.count) bytes is over Upstash's \(UpstashCompatibility.maxKeyBytes)-byte limit")
                continue
            }
            if meta.memory > options.plan.maxRecordBytes {
                s.skip(
                    key,
                    "record of about \(meta.memory) bytes is over the \(options.plan.id) plan's \(options.plan.maxRecordBytes)-byte limit")
                continue
            }
            s.byType[meta.type, default: .init()].keys += 1
            if options.dryRun { s.byType[meta.type, default: .init()].bytes += meta.memory }
            if options.dryRun {
                s.commandsSent += reader.isBig(meta) ? estimatedChunks(meta) + 1 : 1
                continue
            }
            if reader.isBig(meta) { big.append(meta) } else { small.append(meta) }
        }
        if options.dryRun {
            s.commandsSent += deletions.count
            s.deletedOnTarget += deletions.count
            s.requests = Int((Double(s.commandsSent) / Double(options.batch)).rounded(.up))
            return s
        }
        if !deletions.isEmpty {
            _ = try await target!.send(batch: deletions)
            s.deletedOnTarget += deletions.count
            s.commandsSent += deletions.count
            s.requests += 1
        }
        if !small.isEmpty { try await copySmall(small, ctx, &s) }
        for meta in big { try await copyBig(meta, ctx, &s) }
        return s
    }

    private func estimatedChunks(_ meta: KeyMeta) -> Int {
        meta.type == "string"
            ? (meta.length + options.chunkBytes - 1) / options.chunkBytes
            : (meta.length + options.chunkElements - 1) / options.chunkElements
    }

    private func writeCommand(
        _ ctx: BatchContext, op: String, type: String, writeKey: [UInt8], finalKey: [UInt8], expireAt: Int64, payload: [UInt8]
    )
        -> RESPCommand
    {
        let conflict = options.conflict == .replace ? "replace" : "skip"
        return RESPCommand(
            "EVALSHA", ctx.writeSha, 2, writeKey, finalKey, op, type, max(0, expireAt), conflict, payload)
    }

    private func copySmall(_ metas: [KeyMeta], _ ctx: BatchContext, _ s: inout MigrationSummary) async throws {
        var reads: [RESPCommand] = []
        var spans: [Range<Int>] = []
        for m in metas {
            let cmds = reader.readCommands(m, dump: ctx.dump)
            spans.append(reads.count..<reads.count + cmds.count)
            reads += cmds
        }
        let replies = try await source.send(batch: reads)
        var writes: [RESPCommand] = []
        var written: [KeyMeta] = []
        for (m, span) in zip(metas, spans) {
            guard let payload = reader.payload(m, replies: replies[span], dump: ctx.dump) else {
                s.expiredDuringCopy += 1
                continue
            }
            s.bytesRead += payload.bytes.count
            s.byType[m.type, default: .init()].bytes += payload.bytes.count
            let key = options.keyPrefix + m.key
            writes.append(
                writeCommand(
                    ctx, op: ctx.dump ? "restore" : "put", type: m.type, writeKey: key, finalKey: key, expireAt: m.expireAt,
                    payload: payload.bytes))
            written.append(m)
        }
        guard !writes.isEmpty else { return }
        let results = try await sendWrites(writes, ctx)
        s.commandsSent += writes.count
        s.requests += 1
        for (m, r) in zip(written, results) { tally(m.key, r, &s) }
    }

    private func tally(_ key: [UInt8], _ reply: RESPValue, _ s: inout MigrationSummary) {
        switch reply {
        case .integer(1): s.copied += 1
        case .integer(0): s.existing += 1
        case .integer(-1): s.expiredDuringCopy += 1
        default:
            s.failed += 1
            s.skip(key, "write failed: \(reply)")
        }
    }

    /// Sends writes; a target that lost the script (restart, SCRIPT FLUSH) gets it again once.
    private func sendWrites(_ writes: [RESPCommand], _ ctx: BatchContext) async throws -> [RESPValue] {
        var results = try await target!.send(batch: writes)
        if results.contains(where: { $0.bytes.map { String(decoding: $0.prefix(8), as: UTF8.self) == "NOSCRIPT" } ?? false }) {
            _ = try await target!.send(RESPCommand("SCRIPT", "LOAD", Scripts.write))
            results = try await target!.send(batch: writes)
        }
        return results
    }

    private func copyBig(_ meta: KeyMeta, _ ctx: BatchContext, _ s: inout MigrationSummary) async throws {
        let key = options.keyPrefix + meta.key
        let tmp = Array("upshift:tmp:".utf8) + key
        var first = true
        var commands = 0
        var bytes = 0
        var failure: RESPValue? = nil
        let streamMeta = try await reader.readChunks(meta) { payload in
            guard failure == nil else { return }
            let op = first ? "first" : "more"
            let reply = try await sendWrites(
                [writeCommand(ctx, op: op, type: meta.type, writeKey: tmp, finalKey: key, expireAt: meta.expireAt, payload: payload.bytes)],
                ctx)[0]
            first = false
            commands += 1
            bytes += payload.bytes.count
            if reply != .integer(1) { failure = reply }
        }
        s.commandsSent += commands
        s.requests += commands
        s.bytesRead += bytes
        s.byType[meta.type, default: .init()].bytes += bytes
        if let failure {
            tally(meta.key, failure, &s)
            return
        }
        if first && streamMeta == nil {
            s.expiredDuringCopy += 1
            return
        }
        var finish = Payload()
        streamMeta?.append(to: &finish)
        let reply = try await sendWrites(
            [
                writeCommand(
                    ctx, op: "finish", type: meta.type, writeKey: tmp, finalKey: key, expireAt: meta.expireAt, payload: finish.bytes)
            ], ctx)[0]
        s.commandsSent += 1
        s.requests += 1
        tally(meta.key, reply, &s)
    }
}
