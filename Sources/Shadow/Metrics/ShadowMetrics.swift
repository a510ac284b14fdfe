import CoreMetrics
import NIOConcurrencyHelpers
import Prometheus

/// The proxy's counters, twice over: a snapshot for the end-of-run summary, and swift-metrics
/// instruments backed by a Prometheus registry, which `/metrics` renders.
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
        /// Mirror round trips (one per batch).
        public var mirrorLatency = Timing()
        /// From the primary's reply to the mirror's reply.
        public var mirrorLag = Timing()
        /// Round trip of one forwarded batch (one client read) to the primary.
        public var primaryLatency = Timing()
    }

    /// How many durations were observed and their sum; their distribution is in `/metrics`.
    public struct Timing: Sendable {
        public var count = 0
        public var sum: Double = 0

        mutating func observe(_ seconds: Double) {
            sum += seconds
            count += 1
        }
    }

    /// The upper bounds (seconds) of the latency histograms' buckets.
    public static let latencyBuckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

    /// What `/metrics` serves.
    public let registry = PrometheusCollectorRegistry()
    private let state = NIOLockedValueBox(Snapshot())
    private let commandsProxied: CoreMetrics.Counter
    private let commandsMirrored: CoreMetrics.Counter
    private let mismatches: [MismatchClass: CoreMetrics.Counter]
    private let queue: CoreMetrics.Meter
    private let connections: CoreMetrics.Meter
    private let connectionsTotal: CoreMetrics.Counter
    private let connectionsRefused: CoreMetrics.Counter
    private let protocolErrors: CoreMetrics.Counter
    private let mirrorRecoveries: CoreMetrics.Counter
    private let primaryLatency: CoreMetrics.Recorder
    private let mirrorLatency: CoreMetrics.Recorder
    private let mirrorLag: CoreMetrics.Recorder

    private static let incompatibleName = "upshift_shadow_incompatible_commands_total"
    private static let incompatibleHelp = "Commands Upstash does not serve over REST, sent to the primary only."

    public init() {
        let r = registry
        // The full name goes in `metricName`: the registry joins the parts with "_" and drops empty ones.
        func named(_ name: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
        }
        func counter(_ name: String, _ help: String) -> CoreMetrics.Counter {
            CoreMetrics.Counter(label: name, dimensions: [], handler: r.makeCounter(descriptor: named(name, help)))
        }
        func histogram(_ name: String, _ help: String) -> CoreMetrics.Recorder {
            CoreMetrics.Recorder(
                label: name, dimensions: [], aggregate: true,
                handler: r.makeValueHistogram(descriptor: named(name, help), buckets: Self.latencyBuckets))
        }
        commandsProxied = counter("upshift_shadow_commands_proxied_total", "Commands forwarded to the primary.")
        commandsMirrored = counter("upshift_shadow_commands_mirrored_total", "Commands the mirror side ran.")
        var byClass: [MismatchClass: CoreMetrics.Counter] = [:]
        let mismatchName = "upshift_shadow_mismatches_total"
        for c in MismatchClass.allCases {
            let labels = [("class", c.rawValue)]
            byClass[c] = CoreMetrics.Counter(
                label: mismatchName, dimensions: labels,
                handler: r.makeCounter(
                    descriptor: named(mismatchName, "Replies that differed, by class; only class=diff is a failure."), labels: labels))
        }
        mismatches = byClass
        queue = CoreMetrics.Meter(
            label: "upshift_shadow_mirror_queue_depth", dimensions: [],
            handler: r.makeGauge(descriptor: named("upshift_shadow_mirror_queue_depth", "Mirrored commands waiting for the mirror side.")))
        connections = CoreMetrics.Meter(
            label: "upshift_shadow_connections", dimensions: [],
            handler: r.makeGauge(descriptor: named("upshift_shadow_connections", "Client connections open.")))
        connectionsTotal = counter("upshift_shadow_connections_total", "Client connections accepted.")
        connectionsRefused = counter("upshift_shadow_connections_refused_total", "Client connections refused (too many clients).")
        protocolErrors = counter("upshift_shadow_protocol_errors_total", "Client connections closed for malformed RESP.")
        mirrorRecoveries = counter("upshift_shadow_mirror_recoveries_total", "Times a mirror busy in a script was sent SCRIPT KILL.")
        primaryLatency = histogram(
            "upshift_shadow_primary_latency_seconds", "Round trip of one forwarded batch to the side answering clients.")
        mirrorLatency = histogram("upshift_shadow_mirror_latency_seconds", "Round trip of one batch to the mirror side.")
        mirrorLag = histogram("upshift_shadow_mirror_lag_seconds", "From the primary's reply to the mirror's, per command.")
    }

    /// Everything now.
    public var snapshot: Snapshot { state.withLockedValue { $0 } }

    /// The Prometheus text exposition of every counter (what `/metrics` serves).
    public func prometheusText() -> String { registry.emitToString() }

    func mismatch(_ c: MismatchClass) {
        state.withLockedValue { $0.mismatches[c, default: 0] += 1 }
        mismatches[c]?.increment()
    }

    func incompatible(_ name: String) {
        state.withLockedValue { $0.incompatible[name, default: 0] += 1 }
        let labels = [("command", name)]
        CoreMetrics.Counter(
            label: Self.incompatibleName, dimensions: labels,
            handler: registry.makeCounter(
                descriptor: MetricNameDescriptor(metricName: Self.incompatibleName, unitName: "", helpText: Self.incompatibleHelp),
                labels: labels)
        ).increment()
    }

    func protocolError() {
        state.withLockedValue { $0.protocolErrors += 1 }
        protocolErrors.increment()
    }

    func mirrorRecovered() {
        state.withLockedValue { $0.mirrorRecoveries += 1 }
        mirrorRecoveries.increment()
    }

    func refusedConnection() {
        state.withLockedValue { $0.connectionsRefused += 1 }
        connectionsRefused.increment()
    }

    func setQueueDepth(_ depth: Int) {
        state.withLockedValue { $0.queueDepth = depth }
        queue.set(depth)
    }

    func connectionOpened() {
        state.withLockedValue {
            $0.connectionsOpen += 1
            $0.connectionsTotal += 1
        }
        connections.increment()
        connectionsTotal.increment()
    }

    func connectionClosed() {
        state.withLockedValue { $0.connectionsOpen -= 1 }
        connections.decrement()
    }

    /// A session's counts since it last reported: one lock for many commands.
    func sessionReport(proxied: Int, primaryLatencies: [Double]) {
        state.withLockedValue {
            $0.commandsProxied += proxied
            for l in primaryLatencies { $0.primaryLatency.observe(l) }
        }
        commandsProxied.increment(by: proxied)
        for l in primaryLatencies { primaryLatency.record(l) }
    }

    func mirrored(_ n: Int, latency: Double, lags: [Double]) {
        state.withLockedValue {
            $0.commandsMirrored += n
            $0.mirrorLatency.observe(latency)
            for l in lags { $0.mirrorLag.observe(l) }
        }
        commandsMirrored.increment(by: n)
        mirrorLatency.record(latency)
        for l in lags { mirrorLag.record(l) }
    }
}
