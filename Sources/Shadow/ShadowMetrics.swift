import Foundation
import NIOConcurrencyHelpers

/// The proxy's counters, readable as a summary and as Prometheus text.
public final class ShadowMetrics: Sendable {
    /// A point-in-time copy of every counter.
    public struct Snapshot: Sendable {
        public var commandsProxied: Int = 0
        public var commandsMirrored: Int = 0
        public var mismatches: [MismatchClass: Int] = [:]
        public var incompatible: [String: Int] = [:]
        public var connectionsOpen: Int = 0
        public var connectionsTotal: Int = 0
        public var connectionsRefused: Int = 0
        public var protocolErrors: Int = 0
        /// Times a mirror stuck in a script (BUSY) was sent SCRIPT KILL.
        public var mirrorRecoveries: Int = 0
        public var queueDepth: Int = 0
        /// Mirror round-trip latency: counts per bucket upper bound (seconds), plus sum and count.
        public var mirrorLatency = Histogram()
        /// From the primary's reply to the mirror's reply.
        public var mirrorLag = Histogram()
        /// Round trip of one forwarded batch (one client read) to the primary.
        public var primaryLatency = Histogram()
    }

    /// A cumulative histogram with fixed buckets.
    public struct Histogram: Sendable {
        public static let bounds: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
        public var counts = [Int](repeating: 0, count: Histogram.bounds.count)
        public var sum: Double = 0
        public var count = 0

        mutating func observe(_ seconds: Double) {
            for (i, b) in Self.bounds.enumerated() where seconds <= b { counts[i] += 1 }
            sum += seconds
            count += 1
        }
    }

    private let state = NIOLockedValueBox(Snapshot())

    public init() {}

    /// Everything now.
    public var snapshot: Snapshot { state.withLockedValue { $0 } }

    func proxied(_ n: Int) { state.withLockedValue { $0.commandsProxied += n } }
    func mismatch(_ c: MismatchClass) { state.withLockedValue { $0.mismatches[c, default: 0] += 1 } }
    func incompatible(_ name: String) { state.withLockedValue { $0.incompatible[name, default: 0] += 1 } }
    func protocolError() { state.withLockedValue { $0.protocolErrors += 1 } }
    func mirrorRecovered() { state.withLockedValue { $0.mirrorRecoveries += 1 } }
    func refusedConnection() { state.withLockedValue { $0.connectionsRefused += 1 } }
    func queueDepth(_ delta: Int) { state.withLockedValue { $0.queueDepth += delta } }
    func setQueueDepth(_ depth: Int) { state.withLockedValue { $0.queueDepth = depth } }

    func connectionOpened() {
        state.withLockedValue {
            $0.connectionsOpen += 1
            $0.connectionsTotal += 1
        }
    }
    func connectionClosed() { state.withLockedValue { $0.connectionsOpen -= 1 } }

    func primaryAnswered(latency: Double) { state.withLockedValue { $0.primaryLatency.observe(latency) } }

    /// A session's counts since it last reported: one lock for many commands.
    func sessionReport(proxied: Int, primaryLatencies: [Double]) {
        state.withLockedValue {
            $0.commandsProxied += proxied
            for l in primaryLatencies { $0.primaryLatency.observe(l) }
        }
    }

    func mirrored(_ n: Int, latency: Double, lags: [Double]) {
        state.withLockedValue {
            $0.commandsMirrored += n
            $0.mirrorLatency.observe(latency)
            for l in lags { $0.mirrorLag.observe(l) }
        }
    }

    /// The Prometheus text exposition (version 0.0.4) of every counter.
    public func prometheusText() -> String {
        let s = snapshot
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }
        metric("upshift_shadow_commands_proxied_total", "counter", "Commands forwarded to the primary.")
        out += "upshift_shadow_commands_proxied_total \(s.commandsProxied)\n"
        metric("upshift_shadow_commands_mirrored_total", "counter", "Commands the mirror side ran.")
        out += "upshift_shadow_commands_mirrored_total \(s.commandsMirrored)\n"
        metric("upshift_shadow_mismatches_total", "counter", "Replies that differed, by class; only class=diff is a failure.")
        for c in MismatchClass.allCases { out += "upshift_shadow_mismatches_total{class=\"\(c.rawValue)\"} \(s.mismatches[c] ?? 0)\n" }
        metric(
            "upshift_shadow_incompatible_commands_total", "counter", "Commands Upstash does not serve over REST, sent to the primary only.")
        for (name, n) in s.incompatible.sorted(by: { $0.key < $1.key }) {
            out += "upshift_shadow_incompatible_commands_total{command=\"\(Self.label(name))\"} \(n)\n"
        }
        metric("upshift_shadow_mirror_queue_depth", "gauge", "Mirrored commands waiting for the mirror side.")
        out += "upshift_shadow_mirror_queue_depth \(s.queueDepth)\n"
        metric("upshift_shadow_connections", "gauge", "Client connections open.")
        out += "upshift_shadow_connections \(s.connectionsOpen)\n"
        metric("upshift_shadow_connections_total", "counter", "Client connections accepted.")
        out += "upshift_shadow_connections_total \(s.connectionsTotal)\n"
        metric("upshift_shadow_connections_refused_total", "counter", "Client connections refused (too many clients).")
        out += "upshift_shadow_connections_refused_total \(s.connectionsRefused)\n"
        metric("upshift_shadow_protocol_errors_total", "counter", "Client connections closed for malformed RESP.")
        out += "upshift_shadow_protocol_errors_total \(s.protocolErrors)\n"
        metric("upshift_shadow_mirror_recoveries_total", "counter", "Times a mirror busy in a script was sent SCRIPT KILL.")
        out += "upshift_shadow_mirror_recoveries_total \(s.mirrorRecoveries)\n"
        histogram(
            &out, "upshift_shadow_primary_latency_seconds", "Round trip of one forwarded batch to the side answering clients.",
            s.primaryLatency)
        histogram(&out, "upshift_shadow_mirror_latency_seconds", "Round trip of one batch to the mirror side.", s.mirrorLatency)
        histogram(&out, "upshift_shadow_mirror_lag_seconds", "From the primary's reply to the mirror's, per command.", s.mirrorLag)
        return out
    }

    private func histogram(_ out: inout String, _ name: String, _ help: String, _ h: Histogram) {
        out += "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
        for (i, b) in Histogram.bounds.enumerated() { out += "\(name)_bucket{le=\"\(b)\"} \(h.counts[i])\n" }
        out += "\(name)_bucket{le=\"+Inf\"} \(h.count)\n\(name)_sum \(h.sum)\n\(name)_count \(h.count)\n"
    }

    private static func label(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    }
}
