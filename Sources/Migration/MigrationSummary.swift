import Foundation
import RESP

/// What a run did (or, with `--dry-run`, would do): the counts users and CI read.
public struct MigrationSummary: Codable, Sendable {
    /// A key the run did not copy, and why.
    public struct Skipped: Codable, Sendable, Hashable {
        /// The key, as text when it is UTF-8, else `b64:` and its base64.
        public var key: String
        public var reason: String
    }

    /// Keys and bytes of one type.
    public struct TypeCount: Codable, Sendable {
        public var keys: Int = 0
        public var bytes: Int = 0
    }

    public var dryRun = false
    /// `i/n` when this run copied one shard of the keyspace.
    public var shard: String? = nil
    public var keysScanned = 0
    public var copied = 0
    /// Present on the target already, left alone (`--on-conflict skip`).
    public var existing = 0
    /// Gone or expired between the scan and the copy: absent on the target, as on the source.
    public var expiredDuringCopy = 0
    /// Deleted or retyped on the source while it was copied in chunks: its half-built copy was
    /// removed (and the target's key too, when the source no longer has it). Copy it again with `--keys-from`.
    public var changedDuringCopy = 0
    public var failed = 0
    /// Listed with `--keys-from` but gone from the source: removed from the target too.
    public var deletedOnTarget = 0
    public var skipped: [Skipped] = []
    public var skippedCount = 0
    /// What Upstash bills for the copy (`UpstashBilling`): every command sent, a script counted as
    /// its call plus every command it ran. A dry run counts what the copy would send.
    public var billedCommands = 0
    /// HTTP requests to a REST target (round trips to a RESP one).
    public var requests = 0
    public var bytesRead = 0
    public var byType: [String: TypeCount] = [:]
    public var seconds = 0.0
    /// Dry runs: what the copy would take at the plan's commands/s cap, and cost.
    public var estimatedSeconds: Double? = nil
    public var estimatedCostDollars: Double? = nil
    public var plan = ""

    public init() {}

    /// True when every key that existed was copied.
    public var isComplete: Bool { failed == 0 && skippedCount == 0 && changedDuringCopy == 0 }

    /// Keys copied, or for a dry run the keys it would copy.
    public var keysCopied: Int { dryRun ? keysScanned - skippedCount - expiredDuringCopy - failed : copied }

    /// Billed commands per copied key.
    public var commandsPerKey: Double {
        keysCopied <= 0 ? 0 : Double(billedCommands) / Double(keysCopied)
    }

    static let maxListedSkips = 1000

    mutating func skip(_ key: [UInt8], _ reason: String) {
        skippedCount += 1
        list(key, reason)
    }

    /// A key whose write the target refused: counted as failed, listed with the target's reason.
    mutating func fail(_ key: [UInt8], _ reason: String) {
        failed += 1
        list(key, reason)
    }

    /// A key changed on the source during its chunked copy.
    mutating func changed(_ key: [UInt8]) {
        changedDuringCopy += 1
        list(key, "deleted or retyped on the source while it was copied: not left half-built; copy it again with --keys-from")
    }

    private mutating func list(_ key: [UInt8], _ reason: String) {
        if skipped.count < Self.maxListedSkips { skipped.append(Skipped(key: displayKey(key), reason: reason)) }
    }

    mutating func add(_ other: MigrationSummary) {
        keysScanned += other.keysScanned
        copied += other.copied
        existing += other.existing
        expiredDuringCopy += other.expiredDuringCopy
        changedDuringCopy += other.changedDuringCopy
        failed += other.failed
        deletedOnTarget += other.deletedOnTarget
        skippedCount += other.skippedCount
        for s in other.skipped where skipped.count < Self.maxListedSkips { skipped.append(s) }
        billedCommands += other.billedCommands
        requests += other.requests
        bytesRead += other.bytesRead
        for (t, c) in other.byType {
            byType[t, default: TypeCount()].keys += c.keys
            byType[t, default: TypeCount()].bytes += c.bytes
        }
    }

    /// The summary for people.
    public func render() -> String {
        var lines: [String] = []
        let verb = dryRun ? "would copy" : "copied"
        lines.append(
            "\(shard.map { "shard \($0): " } ?? "")\(dryRun ? "dry run: " : "")\(keysScanned) keys scanned, \(verb) \(keysCopied)"
        )
        if existing > 0 { lines.append("  \(existing) already on the target, left alone (--on-conflict skip)") }
        if expiredDuringCopy > 0 {
            lines.append("  \(expiredDuringCopy) expired or deleted during the copy (absent on the target, as on the source)")
        }
        if changedDuringCopy > 0 {
            lines.append("  \(changedDuringCopy) changed on the source during their chunked copy: not copied (listed below)")
        }
        if failed > 0 { lines.append("  \(failed) FAILED: the target refused them (listed below)") }
        if deletedOnTarget > 0 { lines.append("  \(deletedOnTarget) listed keys no longer on the source, removed from the target") }
        if skippedCount > 0 { lines.append("  \(skippedCount) cannot be copied to Upstash (listed below)") }
        let listed = skippedCount + failed + changedDuringCopy
        if listed > 0 {
            lines.append("  not copied:")
            for s in skipped.prefix(20) { lines.append("    \(s.key): \(s.reason)") }
            if listed > 20 { lines.append("    … and \(listed - 20) more (see --report or --json)") }
        }
        for (t, c) in byType.sorted(by: { $0.key < $1.key }) {
            lines.append("  \(t): \(c.keys) keys, \(formatBytes(c.bytes))")
        }
        lines.append(
            "  \(billedCommands) billed commands in \(requests) requests (\(String(format: "%.2f", commandsPerKey)) commands/key), \(String(format: "%.1f", seconds)) s"
        )
        if let est = estimatedSeconds {
            lines.append("  at the \(plan) plan's cap the copy takes about \(String(format: "%.0f", est)) s")
        }
        if let cost = estimatedCostDollars { lines.append("  estimated cost of the copy: $\(String(format: "%.4f", cost))") }
        return lines.joined(separator: "\n")
    }

    /// Markdown for `--report FILE.md`.
    public func markdown() -> String {
        var out = "# Migration \(dryRun ? "plan (dry run)" : "summary")\n\n"
        out += "| measure | value |\n|---|---|\n"
        if let shard { out += "| shard | \(shard) |\n" }
        out += "| keys scanned | \(keysScanned) |\n| copied | \(copied) |\n| already on target | \(existing) |\n"
        out += "| expired during copy | \(expiredDuringCopy) |\n| changed during copy | \(changedDuringCopy) |\n"
        out += "| failed | \(failed) |\n| cannot be copied | \(skippedCount) |\n"
        out += "| billed commands | \(billedCommands) |\n| requests | \(requests) |\n"
        if let est = estimatedSeconds { out += "| estimated duration at plan cap | \(String(format: "%.0f", est)) s |\n" }
        if let cost = estimatedCostDollars { out += "| estimated cost | $\(String(format: "%.4f", cost)) |\n" }
        out += "\n## By type\n\n| type | keys | bytes |\n|---|---|---|\n"
        for (t, c) in byType.sorted(by: { $0.key < $1.key }) { out += "| \(t) | \(c.keys) | \(c.bytes) |\n" }
        if !skipped.isEmpty {
            out += "\n## Keys not copied\n\n| key | reason |\n|---|---|\n"
            for s in skipped { out += "| `\(s.key)` | \(s.reason) |\n" }
        }
        return out
    }
}

func formatBytes(_ n: Int) -> String {
    let units = ["B", "KB", "MB", "GB", "TB"]
    var v = Double(n)
    var u = 0
    while v >= 1024 && u < units.count - 1 {
        v /= 1024
        u += 1
    }
    return u == 0 ? "\(n) B" : String(format: "%.1f %@", v, units[u])
}
