import Foundation
import Keyspace
import RESP

/// Key-by-key proof that a target holds what the source holds: both directions, type, value
/// (by server-side digest, in chunks for big keys) and absolute expiry, over several rounds.
public final class Comparer: Sendable {
    public let source: any Backend
    public let target: any Backend
    public let options: CompareOptions
    let stopRequested = StopLatch()

    public init(source: any Backend, target: any Backend, options: CompareOptions) {
        self.source = source
        self.target = target
        self.options = options
    }

    struct State {
        var type: String
        var expireAt: Int64
        var length: Int
        var digest: String
        /// A stream's last id, groups, consumers and pending entries, digested.
        var meta: String
        /// False when the expiry was read as TIME + PTTL (Redis 6), exact only to a millisecond or two.
        var exactExpiry: Bool
        var exists: Bool { type != "none" && expireAt != -2 }
    }

    /// Asks a running comparison to stop after the batch in flight: `run` then returns the report
    /// so far, marked interrupted (never clean). Safe to call from any thread, any number of times.
    public func stop() {
        stopRequested.set()
    }

    /// Runs every round; `progress` gets the keys checked so far (both directions) after each
    /// batch, and `keysOut` all keys still differing at the end.
    public func run(
        progress: @Sendable (Int) -> Void = { _ in }, keysOut: ((Set<[UInt8]>) throws -> Void)? = nil
    ) async throws -> CompareReport {
        let started = ContinuousClock.now
        var report = CompareReport()
        report.source = source.displayName
        report.target = target.displayName
        report.shard = options.shard?.description
        let shas = try await (load(on: source), load(on: target))
        var differing: [[UInt8]: Difference] = [:]

        // Round 1, source → target: every key (or a sample) checked on both sides.
        if let n = options.sample {
            report.sampled = true
            report.sampleRequested = n
            var keys = Set<[UInt8]>()
            // a shard sees 1/count of the random keys: draw count times as often
            for _ in 0..<n * 2 * (options.shard?.count ?? 1) where keys.count < n && !stopRequested.isSet {
                if let k = try await source.send(RESPCommand("RANDOMKEY")).bytes, options.shard?.contains(k) ?? true { keys.insert(k) }
            }
            for chunk in Array(keys).chunked(options.batch) where !stopRequested.isSet {
                report.keysChecked += chunk.count
                for d in try await check(chunk, shas) { differing[d.0] = d.1 }
                progress(report.keysChecked)
            }
            report.confidence = Self.sampleClaim(checked: report.keysChecked, requested: n)
        } else {
            try await scan(source) { keys in
                report.keysChecked += keys.count
                for d in try await self.check(keys, shas) { differing[d.0] = d.1 }
                progress(report.keysChecked)
            }
            // target → source: keys only the target has
            try await scan(target) { keys in
                report.extraChecked += keys.count
                for d in try await self.extra(keys) { differing[d.0] = d.1 }
                progress(report.keysChecked + report.extraChecked)
            }
        }
        report.rounds = 1
        report.remainingAfterRound.append(differing.count)

        // Later rounds re-check only what differed, so keys merely in flight drop out.
        var round = 1
        while round < options.rounds && !differing.isEmpty && !stopRequested.isSet {
            await stopRequested.pause(seconds: options.interval)
            if stopRequested.isSet { break }
            var still: [[UInt8]: Difference] = [:]
            for chunk in Array(differing.keys).chunked(options.batch) {
                for d in try await check(chunk, shas) { still[d.0] = d.1 }
            }
            differing = still
            round += 1
            report.rounds = round
            report.remainingAfterRound.append(differing.count)
        }

        report.interrupted = stopRequested.isSet
        for d in differing.values { report.counts[d.kind.rawValue, default: 0] += 1 }
        report.differences = Array(differing.values.sorted { $0.key < $1.key }.prefix(options.listLimit))
        try keysOut?(Set(differing.keys))
        let elapsed = (ContinuousClock.now - started).components
        report.seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
        return report
    }

    /// What a clean sample proves, and what it does not: only source → target was checked.
    static func sampleClaim(checked: Int, requested: Int) -> String {
        let fewer = checked < requested ? " (of \(requested) asked: the source gave no more distinct keys)" : ""
        let bound = String(format: "%.2f", 300.0 / Double(max(1, checked)))
        return "\(checked) random source keys checked on the target\(fewer), source → target only (keys that only the target has "
            + "were not looked for: run without --sample for that); with none differing, fewer than \(bound)% of the source's keys "
            + "differ (95% confidence, rule of three)"
    }

    private func load(on backend: any Backend) async throws -> ([UInt8], [UInt8]) {
        let r = try await backend.send(batch: [
            RESPCommand("SCRIPT", "LOAD", DigestScript.batch), RESPCommand("SCRIPT", "LOAD", DigestScript.chunk),
        ])
        guard let a = r[0].bytes, let b = r[1].bytes, !r[0].isError, !r[1].isError else {
            throw CompareError("\(backend.displayName): cannot load the compare scripts: \(r[0])")
        }
        return (a, b)
    }

    private func scan(_ backend: any Backend, _ body: ([[UInt8]]) async throws -> Void) async throws {
        var cursor: [UInt8] = Array("0".utf8)
        repeat {
            var args: [any RESPArgumentConvertible] = [cursor]
            if let m = options.match { args += ["MATCH", m] }
            args += ["COUNT", options.batch]
            let reply = try await backend.send(RESPCommand("SCAN", arguments: args))
            guard let parts = reply.array, parts.count == 2, let next = parts[0].bytes, let keys = parts[1].array else {
                throw CompareError("\(backend.displayName): unexpected SCAN reply \(reply)")
            }
            cursor = next
            var page = keys.compactMap(\.bytes)
            if let shard = options.shard { page = page.filter(shard.contains) }
            if !page.isEmpty { try await body(page) }
        } while cursor != Array("0".utf8) && !stopRequested.isSet
    }

    private func states(_ backend: any Backend, _ keys: [[UInt8]], _ sha: [UInt8]) async throws -> [State] {
        let reply = try await backend.send(
            DigestScript.command(sha: sha, keys: keys, limit: options.chunkElements, carriesBinary: backend.carriesBinary))
        guard let rows = reply.array, rows.count == keys.count else {
            throw CompareError("\(backend.displayName): digest failed: \(reply)")
        }
        return rows.map { row in
            let a = row.array ?? []
            return State(
                type: a.first?.text ?? "none", expireAt: a.count > 1 ? a[1].integer ?? -2 : -2,
                length: a.count > 2 ? Int(a[2].integer ?? 0) : 0, digest: a.count > 3 ? a[3].text ?? "" : "",
                meta: a.count > 4 ? a[4].text ?? "" : "", exactExpiry: a.count > 5 ? a[5].integer != 0 : true)
        }
    }

    /// Source-side check of keys: missing, type, expiry, value.
    private func check(_ keys: [[UInt8]], _ shas: (([UInt8], [UInt8]), ([UInt8], [UInt8]))) async throws -> [([UInt8], Difference)] {
        async let sourceStates = states(source, keys, shas.0.0)
        async let targetStates = states(target, keys, shas.1.0)
        let (ss, ts) = try await (sourceStates, targetStates)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        // a key that expires within the check is in flight, not a difference
        let horizon = now + Int64(max(1, options.interval) * 1000)
        var out: [([UInt8], Difference)] = []
        for (i, key) in keys.enumerated() {
            let s = ss[i]
            let t = ts[i]
            let name = displayKey(key)
            let expiring = (s.expireAt > 0 && s.expireAt <= horizon) || (t.expireAt > 0 && t.expireAt <= horizon)
            switch (s.exists, t.exists) {
            case (false, false): continue
            case (false, true):
                if !expiring { out.append((key, Difference(key: name, kind: .extra, detail: "only on the target"))) }
                continue
            case (true, false):
                if !expiring { out.append((key, Difference(key: name, kind: .missing, detail: "\(s.type) absent on the target"))) }
                continue
            case (true, true): break
            }
            if s.type != t.type {
                out.append((key, Difference(key: name, kind: .type, detail: "\(s.type) on the source, \(t.type) on the target")))
                continue
            }
            let tolerance =
                s.exactExpiry && t.exactExpiry
                ? options.ttlToleranceMs : max(options.ttlToleranceMs, KeyProbe.expiryPrecisionWithoutPexpiretime)
            if (s.expireAt < 0) != (t.expireAt < 0) || abs(s.expireAt - t.expireAt) > tolerance {
                if !expiring {
                    out.append(
                        (key, Difference(key: name, kind: .expiry, detail: "expires at \(describe(s.expireAt)) vs \(describe(t.expireAt))"))
                    )
                    continue
                }
            }
            if s.length != t.length {
                out.append((key, Difference(key: name, kind: .value, detail: "\(s.type) of length \(s.length) vs \(t.length)")))
                continue
            }
            let same: Bool
            if s.digest.isEmpty || t.digest.isEmpty {
                same = try await chunkDigests(source, key, s.type, shas.0.1) == chunkDigests(target, key, t.type, shas.1.1)
            } else {
                same = s.digest == t.digest
            }
            if !same {
                out.append((key, Difference(key: name, kind: .value, detail: "\(s.type) values differ")))
            } else if s.meta != t.meta {
                out.append((key, Difference(key: name, kind: .value, detail: "stream groups, consumers or pending entries differ")))
            }
        }
        return out
    }

    /// A big key's digest, chunk by chunk on the server; hashes and sets as an order-free sum.
    private func chunkDigests(_ backend: any Backend, _ key: [UInt8], _ type: String, _ sha: [UInt8]) async throws -> [String] {
        var start = type == "stream" ? "-" : "0"
        var digests: [String] = []
        var count = 0
        var sum: UInt64 = 0
        while true {
            let r = try await backend.send(
                DigestScript.chunkCommand(
                    sha: sha, key: key, type: type, start: start, count: options.chunkElements, carriesBinary: backend.carriesBinary))
            guard let a = r.array, a.count == 2, let next = a[0].text, let d = a[1].text else {
                throw CompareError("\(backend.displayName): chunk digest failed: \(r)")
            }
            if type == "hash" || type == "set" {
                let parts = d.split(separator: ":")
                count += Int(parts.first ?? "0") ?? 0
                sum = (sum + (UInt64(parts.last ?? "0") ?? 0)) % 4_294_967_296
            } else {
                digests.append(d)
            }
            if next.isEmpty { break }
            start = next
        }
        return type == "hash" || type == "set" ? ["\(count):\(sum)"] : digests
    }

    /// Target keys the source does not have.
    private func extra(_ keys: [[UInt8]]) async throws -> [([UInt8], Difference)] {
        let exists = try await source.send(batch: keys.map { RESPCommand("EXISTS", $0) })
        var out: [([UInt8], Difference)] = []
        for (k, e) in zip(keys, exists) where e == .integer(0) {
            out.append((k, Difference(key: displayKey(k), kind: .extra, detail: "only on the target")))
        }
        return out
    }

    private func describe(_ ms: Int64) -> String {
        ms < 0 ? "never" : "\(ms) ms"
    }
}

/// A comparison that could not run, with a one-line reason.
public struct CompareError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension Array {
    func chunked(_ n: Int) -> [[Element]] {
        stride(from: 0, to: count, by: n).map { Array(self[$0..<Swift.min($0 + n, count)]) }
    }
}
