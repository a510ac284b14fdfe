/// What a shadow run saw, for the end-of-run report.
public struct ShadowSummary: Sendable {
    public var metrics: ShadowMetrics.Snapshot
    public var divergentKeys: Int
    public var keysOverflowed: Bool
    public var keysOutPath: String?
    public var keysError: String?
    public var mismatchLogPath: String?
    /// Mismatch records that could not be written because the disk fell behind.
    public var lostRecords: Int

    /// True when no reply really diverged (only `diff` is a failure).
    public var held: Bool { (metrics.mismatches[.diff] ?? 0) == 0 }

    /// The summary for people, with the reconcile command when keys diverged. `primary` is the
    /// Redis the copy reads from; `flipped` when Upstash answered and that Redis was the rollback side.
    public func render(primary: String, flipped: Bool = false) -> String {
        var lines: [String] = []
        let m = metrics
        lines.append("shadow: \(m.commandsProxied) commands proxied, \(m.commandsMirrored) mirrored, \(m.connectionsTotal) connections")
        let classes = MismatchClass.allCases.compactMap { c in m.mismatches[c].map { "\(c.rawValue) \($0)" } }
        lines.append("mismatches: " + (classes.isEmpty ? "none" : classes.joined(separator: ", ")))
        if !m.incompatible.isEmpty {
            let top = m.incompatible.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }
            lines.append(
                (flipped
                    ? "commands Upstash does not serve over REST (the handshake answered by the proxy, the rest refused): "
                    : "commands Upstash will not serve over REST (sent to the primary only): ")
                    + top.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        if m.protocolErrors > 0 { lines.append("clients closed for malformed RESP: \(m.protocolErrors)") }
        if let mismatchLogPath { lines.append("mismatch log: \(mismatchLogPath)") }
        if lostRecords > 0 { lines.append("warning: \(lostRecords) mismatch records lost (disk too slow)") }
        if divergentKeys > 0 && flipped {
            lines.append(
                "\(divergentKeys) keys on which the old Redis (the rollback side) may differ from Upstash"
                    + (keysOutPath.map { ", written to \($0)" } ?? ""))
            lines.append("  before rolling back, re-read them from Upstash; Upstash itself holds every write the app made")
        } else if divergentKeys > 0 {
            if let keysOutPath {
                lines.append("\(divergentKeys) divergent keys written to \(keysOutPath); reconcile with:")
                lines.append("  upshift migrate --source \(primary) --target TARGET --keys-from \(keysOutPath)")
            } else {
                lines.append("\(divergentKeys) divergent keys (give --keys-out FILE to list them for upshift migrate --keys-from)")
            }
            if keysOverflowed { lines.append("warning: too many divergent keys to list; run a full upshift migrate") }
        }
        if let keysError { lines.append("warning: could not write the keys file: \(keysError)") }
        return lines.joined(separator: "\n")
    }
}
