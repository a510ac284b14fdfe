import Foundation

/// What a comparison found: counts by kind, the differing keys, and how sure a sample is.
public struct CompareReport: Codable, Sendable {
    public var source = ""
    public var target = ""
    /// `i/n` when only one shard of the keyspace was compared.
    public var shard: String? = nil
    public var keysChecked = 0
    public var extraChecked = 0
    public var rounds = 0
    /// How many differences remained after each round.
    public var remainingAfterRound: [Int] = []
    public var counts: [String: Int] = [:]
    public var differences: [Difference] = []
    /// True when only a random sample of source keys was checked, and only source → target.
    public var sampled = false
    /// The sample size asked for (`--sample N`); `keysChecked` says how many were found.
    public var sampleRequested: Int? = nil
    /// For a sample: what a clean result says about the whole keyspace.
    public var confidence: String? = nil
    /// True when the comparison was stopped (SIGINT/SIGTERM) before the end: the counts cover
    /// only what was checked by then.
    public var interrupted = false
    public var seconds = 0.0

    /// True when the whole comparison ran and no difference survived the last round.
    public var isClean: Bool { !interrupted && differenceCount == 0 }

    /// Differences that survived the last round.
    public var differenceCount: Int { counts.values.reduce(0, +) }

    /// The report for people; values are never shown.
    public func render() -> String {
        var lines: [String] = []
        lines.append(
            "\(shard.map { "shard \($0): " } ?? "")compared \(keysChecked) source keys and \(extraChecked) target keys in \(rounds) round(s), \(String(format: "%.1f", seconds)) s"
        )
        if sampled, let confidence { lines.append("  sample: \(confidence)") }
        if interrupted {
            lines.append(
                "  interrupted before the end: only the keys above were checked, so this proves nothing about the rest; run compare again")
        }
        if differenceCount == 0 {
            if interrupted {
                lines.append("  no differences among the keys checked so far")
            } else if sampled {
                lines.append(
                    "  no differences among the \(keysChecked) sampled source keys: each is on the target with the same type, value and expiry"
                )
            } else {
                lines.append("  no differences: the target holds every key with the same type, value and expiry")
            }
        } else {
            for kind in Difference.Kind.allCases where (counts[kind.rawValue] ?? 0) > 0 {
                lines.append("  \(kind.rawValue): \(counts[kind.rawValue]!)")
            }
            lines.append("  first differences:")
            for d in differences.prefix(20) { lines.append("    \(d.kind.rawValue) \(d.key): \(d.detail)") }
        }
        if remainingAfterRound.count > 1 {
            lines.append("  differences after each round: \(remainingAfterRound.map(String.init).joined(separator: " → "))")
        }
        return lines.joined(separator: "\n")
    }

    /// Markdown for `--report FILE.md`.
    public func markdown() -> String {
        var out = "# Compare: \(source) → \(target)\n\n"
        if interrupted {
            out += "**Interrupted** before the end: only the keys counted below were checked.\n\n"
        } else if sampled && isClean {
            out += "**Clean sample**: no differences among \(keysChecked) random source keys (source → target only).\n\n"
        } else {
            out += isClean ? "**Clean**: no differences.\n\n" : "**Differences found.**\n\n"
        }
        out += "| measure | value |\n|---|---|\n| source keys checked | \(keysChecked) |\n| target keys checked | \(extraChecked) |\n"
        out += "| rounds | \(rounds) |\n"
        for kind in Difference.Kind.allCases { out += "| \(kind.rawValue) | \(counts[kind.rawValue] ?? 0) |\n" }
        if let confidence { out += "| sample | \(confidence) |\n" }
        if !differences.isEmpty {
            out += "\n| key | kind | detail |\n|---|---|---|\n"
            for d in differences { out += "| `\(d.key)` | \(d.kind.rawValue) | \(d.detail) |\n" }
        }
        return out
    }
}
