import Foundation
import Keyspace
import RESP

extension Migrator {
    /// A big key: read chunk by chunk, each chunk appended to a temporary key (elements bigger than
    /// a request assembled in piece keys), then moved into place with its expiry. A key deleted or
    /// retyped on the source meanwhile is never left half-built: its temporary key is dropped, and
    /// the target's key too when the source no longer has it.
    func copyBig(_ p: ProbedKey, _ ctx: BatchContext, _ s: inout MigrationSummary) async throws {
        let key = options.keyPrefix + p.key
        guard let type = ChunkType(rawValue: p.type.name) else { return }
        var meta: StreamMeta? = nil
        var placeholders: [[UInt8]] = []
        if p.type == .stream {
            meta = try await reader.bigStreamMeta(p.key)
            guard meta != nil else {
                s.expiredDuringCopy += 1
                return
            }
            placeholders = meta?.placeholders ?? []
        }
        var chunks = ctx.planner.chunkWriter(key, type)
        var failure: String? = nil
        var bytes = 0
        var billed = 0
        var requests = 0
        let limit = options.plan.maxRecordBytes
        func write(_ ops: [WriteOp]) async throws {
            guard failure == nil, !ops.isEmpty else { return }
            let outcome = try await send([KeyWrite(source: p.key, ops: ops)], ctx)
            billed += outcome.billed
            requests += outcome.requests
            if case .failed(let text) = outcome.statuses[0] { failure = "the target refused it: \(text)" }
        }
        try await reader.readChunks(p) { chunk in
            guard failure == nil else { return false }
            var chunk = chunk
            switch chunk {
            case .string(let b): bytes += b.count
            case .elements(let items): bytes += items.reduce(0) { $0 + $1.count }
            case .entries(let entries):
                bytes += entries.reduce(0) { $0 + $1.id.count + $1.fields.reduce(0) { $0 + $1.size } }
                // Pending IDs whose entries were deleted go in as placeholders, in ID order.
                if let last = entries.last.flatMap({ StreamID($0.id) }) {
                    let due = placeholders.filter { (StreamID($0) ?? .zero) <= last }
                    placeholders.removeAll { (StreamID($0) ?? .zero) <= last }
                    if !due.isEmpty { chunk = .entries(KeyReader.merge(entries, placeholders: due)) }
                }
            }
            if bytes > limit {
                failure = "record of more than \(limit) bytes is over the \(options.plan.id) plan's limit"
                return false
            }
            try await write(chunks.ops(chunk))
            return true
        }
        if !placeholders.isEmpty { try await write(chunks.ops(.entries(KeyReader.merge([], placeholders: placeholders)))) }
        s.bytesRead += bytes
        s.byType[p.type.name, default: .init()].bytes += bytes
        defer {
            s.billedCommands += billed
            s.requests += requests
        }
        if let failure {
            let outcome = try await send([KeyWrite(source: p.key, ops: chunks.abandon(alsoDeleting: nil))], ctx)
            billed += outcome.billed
            requests += outcome.requests
            s.fail(p.key, failure)
            return
        }
        // The source again: a key deleted or retyped during the copy must not arrive as a truncated ghost.
        let now = options.dryRun ? p : try await probe([p.key], ctx)[0]
        guard let now, !now.isGone, now.type == p.type else {
            let gone = now?.isGone ?? true
            if chunks.started || gone {
                let outcome = try await send(
                    [KeyWrite(source: p.key, ops: chunks.abandon(alsoDeleting: gone ? key : nil))], ctx)
                billed += outcome.billed
                requests += outcome.requests
            }
            s.changed(p.key)
            return
        }
        guard chunks.started || p.type == .stream else {
            s.expiredDuringCopy += 1
            return
        }
        let outcome = try await send(
            [
                KeyWrite(
                    source: p.key,
                    ops: chunks.finish(final: key, expireAt: now.expireAt, skip: options.conflict != .replace, stream: meta))
            ], ctx)
        billed += outcome.billed
        requests += outcome.requests
        tally(p.key, outcome.statuses[0], &s)
    }
}
