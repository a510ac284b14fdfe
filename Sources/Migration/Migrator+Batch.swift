import Foundation
import Keyspace
import RESP
import UpstashClient
import UpstashProfile

/// How one key's write ended on the target.
enum KeyStatus: Sendable {
    case written
    case existing
    /// A chunked copy found nothing to move into place (the key vanished on the source before its first chunk).
    case nothingToFinish
    case failed(String)
}

/// What sending some writes cost, and how each key's write ended.
struct WriteOutcome: Sendable {
    var billed = 0
    var requests = 0
    var statuses: [KeyStatus] = []
}

extension Migrator {
    /// Copies one batch of keys: small keys read whole in pipelined reads (a byte budget at a
    /// time) and written by one script call per request; big keys chunk by chunk.
    func copy(_ keys: [[UInt8]], _ ctx: BatchContext) async throws -> MigrationSummary {
        var s = MigrationSummary()
        s.keysScanned = keys.count
        guard !keys.isEmpty else { return s }
        let probed = try await probe(keys, ctx)
        let now = Date().unixMilliseconds
        var small: [ProbedKey] = []
        var big: [ProbedKey] = []
        var deletions: [RESPCommand] = []
        for (key, p) in zip(keys, probed) {
            guard let p else {
                s.fail(key, "the source's probe gave no answer for it")
                continue
            }
            if p.isGone || (p.expireAt > 0 && p.expireAt <= now) {
                // A listed key the source no longer has is reconciled by removing it from the target.
                if options.keys != nil {
                    deletions.append(RESPCommand("DEL", options.keyPrefix + key))
                } else {
                    s.expiredDuringCopy += 1
                }
                continue
            }
            let isBig = reader.isBig(p)
            if let reason = refusal(p, big: isBig) {
                s.skip(key, reason)
                continue
            }
            s.byType[p.type.name, default: .init()].keys += 1
            if isBig { big.append(p) } else { small.append(p) }
        }
        if !deletions.isEmpty {
            let outcome = try await send(deletions.map { KeyWrite(source: [], direct: $0) }, ctx)
            s.billedCommands += outcome.billed
            s.requests += outcome.requests
            s.deletedOnTarget += deletions.count
        }
        // Read a group of small keys at a time, so a batch of fat keys never sits in memory whole.
        var group: [ProbedKey] = []
        var groupBytes = 0
        for p in small {
            let bytes = max(p.memory, p.type == .string ? p.length : 0)
            if !group.isEmpty && groupBytes + bytes > options.chunkBytes * 2 {
                try await copySmall(group, ctx, &s, retries: 1)
                group = []
                groupBytes = 0
            }
            group.append(p)
            groupBytes += bytes
        }
        if !group.isEmpty { try await copySmall(group, ctx, &s, retries: 1) }
        for p in big { try await copyBig(p, ctx, &s) }
        return s
    }

    /// Why a key cannot be copied at all, or nil.
    func refusal(_ p: ProbedKey, big: Bool) -> String? {
        if !p.type.isStorable { return "type '\(p.type.name)' (a module type) cannot be stored on Upstash" }
        let targetKey = options.keyPrefix + p.key
        if targetKey.count > UpstashCompatibility.maxKeyBytes {
            return "key of \(targetKey.count) bytes is over Upstash's \(UpstashCompatibility.maxKeyBytes)-byte limit"
        }
        let size = p.type == .string ? p.length : p.memory
        if size > options.plan.maxRecordBytes {
            return "record of about \(size) bytes is over the \(options.plan.id) plan's \(options.plan.maxRecordBytes)-byte limit"
        }
        if big && WritePlanner.pieceKey(targetKey, 99).count > UpstashCompatibility.maxKeyBytes {
            return "key of \(targetKey.count) bytes is too long for the temporary key its chunked copy needs"
        }
        return nil
    }

    func probe(_ keys: [[UInt8]], _ ctx: BatchContext) async throws -> [ProbedKey?] {
        let reply = try await source.send(KeyProbe.command(sha: ctx.probeSha, keys: keys, memory: true))
        guard let rows = KeyProbe.parse(reply, keys: keys) else {
            throw MigrationError("\(source.displayName): probe failed: \(reply)")
        }
        return rows
    }

    /// Small keys: one pipelined read, one pipelined write. Keys that vanished or changed type
    /// between the probe and the read are probed again and, if still there, copied once more.
    private func copySmall(_ group: [ProbedKey], _ ctx: BatchContext, _ s: inout MigrationSummary, retries: Int) async throws {
        var dump = false
        if group.contains(where: { KeyReader.dumps($0.type) }) {
            switch options.mode {
            case .struct: dump = false
            case .dump: dump = true
            // Undecided: read payloads, and the first one decides. A dry run assumes RESTORE works (Upstash documents it).
            case .auto:
                let decided = await restoreSupport.decided
                dump = options.dryRun ? true : (decided ?? true)
            }
        }
        var values = try await reader.readWhole(group, dump: dump)
        let undecided = await restoreSupport.decided == nil
        if dump && options.mode == .auto && !options.dryRun && undecided {
            for case .dump(let payload)? in values {
                if !(await targetRestores(payload, &s)) { values = try await reader.readWhole(group, dump: false) }
                break
            }
        }
        var writes: [KeyWrite] = []
        var owners: [ProbedKey] = []
        var vanished: [[UInt8]] = []
        var refusedDumps: [ProbedKey] = []
        for (p, v) in zip(group, values) {
            guard let v else {
                vanished.append(p.key)
                continue
            }
            s.bytesRead += v.byteCount
            s.byType[p.type.name, default: .init()].bytes += v.byteCount
            if v.byteCount > options.plan.maxRecordBytes {
                s.skip(
                    p.key, "record of \(v.byteCount) bytes is over the \(options.plan.id) plan's \(options.plan.maxRecordBytes)-byte limit")
                continue
            }
            guard
                let w = ctx.planner.plan(
                    source: p.key, key: options.keyPrefix + p.key, value: v, expireAt: p.expireAt)
            else {
                refusedDumps.append(p)
                continue
            }
            writes.append(w)
            owners.append(p)
        }
        let outcome = try await send(writes, ctx)
        s.billedCommands += outcome.billed
        s.requests += outcome.requests
        for (i, status) in outcome.statuses.enumerated() {
            if case .failed(let text) = status, case .simple(let items, _)? = writes[i].ops.first, items.first?.kind == .restore,
                Self.isPayloadRefusal(text)
            {
                refusedDumps.append(owners[i])
                continue
            }
            tally(writes[i].source, status, &s)
        }
        if !refusedDumps.isEmpty {
            // RESTORE refused (or the payload was too big for one request): the same keys, type by type.
            let values = try await reader.readWhole(refusedDumps, dump: false)
            var again: [KeyWrite] = []
            for (p, v) in zip(refusedDumps, values) {
                guard let v,
                    let w = ctx.planner.plan(
                        source: p.key, key: options.keyPrefix + p.key, value: v, expireAt: p.expireAt)
                else {
                    vanished.append(p.key)
                    continue
                }
                again.append(w)
            }
            let retried = try await send(again, ctx)
            s.billedCommands += retried.billed
            s.requests += retried.requests
            for (w, status) in zip(again, retried.statuses) { tally(w.source, status, &s) }
        }
        guard !vanished.isEmpty else { return }
        let reprobed = try await probe(vanished, ctx)
        var retry: [ProbedKey] = []
        for (key, p) in zip(vanished, reprobed) {
            if let p, !p.isGone, retries > 0, refusal(p, big: reader.isBig(p)) == nil {
                retry.append(p)
            } else if let p, !p.isGone {
                s.changed(key)
            } else {
                s.expiredDuringCopy += 1
            }
        }
        if !retry.isEmpty { try await copySmall(retry, ctx, &s, retries: retries - 1) }
    }

    static func isPayloadRefusal(_ text: String) -> Bool {
        text.contains("DUMP payload") || text.contains("Bad data format") || text.contains("payload version")
    }

    func tally(_ key: [UInt8], _ status: KeyStatus, _ s: inout MigrationSummary) {
        switch status {
        case .written: s.copied += 1
        case .existing: s.existing += 1
        case .nothingToFinish: s.expiredDuringCopy += 1
        case .failed(let text): s.fail(key, "the target refused it: \(text)")
        }
    }

    /// Sends writes (a dry run only counts them); what it cost and how each key's write ended.
    /// A script call refused as a whole (one of its declared keys refused, say) is sent again in
    /// halves, and so on, so only the keys at fault fail.
    func send(_ writes: [KeyWrite], _ ctx: BatchContext) async throws -> WriteOutcome {
        var outcome = WriteOutcome()
        guard !writes.isEmpty else { return outcome }
        let packed = ctx.packer.pack(writes)
        guard let target, !options.dryRun else {
            outcome.billed = packed.commands.reduce(0) { $0 + UpstashBilling.billed($1.name, scriptCalls: $1.scriptCalls) }
            outcome.requests = UpstashClient.roundTrips(for: packed.commands, plan: options.plan)
            outcome.statuses = Array(repeating: .written, count: writes.count)
            return outcome
        }
        var replies = try await sendIsolating(packed.commands, to: target)
        if replies.contains(where: { $0.bytes.map { $0.starts(with: Array("NOSCRIPT".utf8)) } ?? false }) {
            // The target lost the scripts (a restart, SCRIPT FLUSH): load them again and resend; every write is idempotent.
            _ = try await target.send(batch: [
                RESPCommand("SCRIPT", "LOAD", WriteScript.text(keyLocking: false)),
                RESPCommand("SCRIPT", "LOAD", WriteScript.text(keyLocking: true)),
            ])
            outcome.billed += 2
            replies = try await sendIsolating(packed.commands, to: target)
        }
        // A REST client counts its own requests (the run reads that total); RESP is a round trip a send.
        if target.requestsSent == nil { outcome.requests += 1 }
        var statuses = [KeyStatus?](repeating: nil, count: writes.count)
        var refusedWhole = Set<Int>()
        func record(_ i: Int, _ status: KeyStatus) {
            if case .failed? = statuses[i] { return }
            statuses[i] = status
        }
        // a call or operation refused as a whole is sent again: its keys' earlier statuses go
        func clear(_ i: Int) { statuses[i] = nil }
        for (command, (owners, reply)) in zip(packed.commands, zip(packed.owners, replies)) {
            guard command.name == "EVALSHA" else {
                outcome.billed += UpstashBilling.billed(command.name)
                switch reply {
                case .error(let text): record(owners[0][0], .failed(String(decoding: text, as: UTF8.self)))
                case .bulkString(nil): record(owners[0][0], .existing)
                default: record(owners[0][0], .written)
                }
                continue
            }
            let keys = owners.flatMap { $0 }
            guard let results = reply.array, results.count == owners.count + 1, let calls = results[0].integer else {
                // The call failed as a whole (a declared key refused, BUSY, a limit): every key in it failed with its text.
                outcome.billed += 1
                let text = reply.isError ? (reply.text ?? "") : "unexpected reply \(reply)"
                for o in keys { record(o, .failed(text)) }
                if Set(keys).count > 1 { refusedWhole.formUnion(keys) }
                continue
            }
            outcome.billed += 1 + Int(calls)
            for (slot, r) in zip(owners, results.dropFirst()) {
                if let bytes = r.bytes, bytes.first == UInt8(ascii: "!") {
                    let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
                    for o in slot { record(o, .failed(text)) }
                    // an M operation fails as one: its keys go again in halves, down to the one at fault
                    if slot.count > 1 { refusedWhole.formUnion(slot) }
                } else if slot.count > 1 || r.integer == nil, let codes = r.bytes, codes.count == slot.count {
                    for (o, c) in zip(slot, codes) { record(o, c == UInt8(ascii: "0") ? .existing : .written) }
                } else {
                    switch r.integer {
                    case 0: record(slot[0], .existing)
                    case -1: record(slot[0], .nothingToFinish)
                    default: record(slot[0], .written)
                    }
                }
            }
        }
        // Halves, recursively: a call refused again is split again, down to the keys at fault.
        let refused = refusedWhole.sorted()
        for half in [refused.prefix(refused.count / 2), refused.dropFirst(refused.count / 2)] where !half.isEmpty {
            let again = try await send(half.map { writes[$0] }, ctx)
            outcome.billed += again.billed
            outcome.requests += again.requests
            for (i, status) in zip(half, again.statuses) {
                clear(i)
                record(i, status)
            }
        }
        outcome.statuses = statuses.map { $0 ?? .failed("no reply") }
        return outcome
    }

    /// Sends a batch; when the target refuses the request as too large (an estimate was off), sends
    /// each command alone so only the one too large fails. Other failures stop the run.
    private func sendIsolating(_ commands: [RESPCommand], to target: any Backend) async throws -> [RESPValue] {
        do {
            return try await target.send(batch: commands)
        } catch let error as UpstashError where error.kind == .limit && Self.isRequestSizeRefusal(error.detail) {
            guard commands.count > 1 else { return [.error(Array(error.detail.utf8))] }
            var replies: [RESPValue] = []
            for c in commands { replies += try await sendIsolating([c], to: target) }
            return replies
        }
    }

    static func isRequestSizeRefusal(_ text: String) -> Bool {
        text.contains("max request size") || text.contains("needs a request of")
    }
}
