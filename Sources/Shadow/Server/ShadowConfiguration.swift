import NIOCore
import RedisClient

/// How the proxy runs: where it listens, what it forwards to, what it mirrors and where it records.
public struct ShadowConfiguration: Sendable {
    /// Whether the client's reply waits for the mirror.
    public enum Mode: String, Sendable, CaseIterable {
        /// Mirror asynchronously; the primary path never waits for the other side.
        case shadow
        /// Each mirrored command's reply waits for both sides (still the primary's reply is returned).
        case dualWrite = "dual-write"
    }

    /// The address to listen on; port 0 picks a free port.
    public var host: String
    public var port: Int
    /// The server that answers clients.
    public var primary: RedisURL
    public var mode: Mode
    /// Mirror write commands to the other side.
    public var mirrorWrites: Bool
    /// Mirror read commands (a `readSample` fraction of them).
    public var mirrorReads: Bool
    /// The fraction of reads mirrored when `mirrorReads` is on, 0…1.
    public var readSample: Double
    /// Where mismatch records go as JSON lines; nil keeps only counts.
    public var mismatchLogPath: String?
    /// Where the divergent keys are written (one per line, the `migrate --keys-from` format).
    public var keysOutPath: String?
    /// Keep values in mismatch records instead of redacting them.
    public var showValues: Bool
    /// Mirrored commands waiting across all connections before new ones are dropped.
    public var queueLimit: Int
    /// Commands sent to the other side in one round trip at most.
    public var mirrorBatch: Int
    /// TTL/PTTL replies closer than this count as `ttl-skew`, not `diff`.
    public var ttlToleranceMs: Int64
    /// How long shutdown waits for the mirror queue to drain.
    public var drainDeadline: TimeAmount
    /// After a mirror failure, how long to fail mirrored commands fast before trying again.
    public var mirrorRetryAfter: TimeAmount
    /// Client connections accepted at once; more are refused with an error.
    public var maxClients: Int
    /// Where Prometheus metrics are served (`/metrics`), nil for none.
    public var metricsHost: String?
    public var metricsPort: Int?
    /// Where writes in other databases than the primary URL's go on the mirror side (key prefixes).
    public var databases = DatabaseMapping()
    /// Longest bulk argument a client may send (redis-server's `proto-max-bulk-len`).
    public var maxBulk = 512 * 1024 * 1024
    /// Largest single request (one command) a client may send.
    public var maxRequest = 512 * 1024 * 1024
    /// Bytes a client may have buffered in the proxy (its partial request) before it is disconnected
    /// (redis-server's `client-query-buffer-limit`).
    public var maxClientBuffer = 1024 * 1024 * 1024
    /// The proxy logs each client's primary connection in with the primary URL's credentials (the
    /// flip to a RESP target: the app keeps its old password, the target wants the token). Otherwise
    /// clients log in themselves, as they did with Redis, and the proxy lends nobody its password.
    public var logsClientsIn = false
    /// Event loop threads serving clients; nil for one per core.
    public var threads: Int?
    /// How long one batch to the mirror side may take before it counts as unavailable.
    public var mirrorTimeout: TimeAmount = .seconds(2)
    /// Clients share primary connections (one per event loop and login) until they send a command
    /// that needs one of their own (SELECT, MULTI, WATCH, blocking pops, SUBSCRIBE, CLIENT…); off:
    /// one primary connection per client from the start.
    public var sharedConnections = true
    /// How long a shared primary connection nobody rides stays open for the next client.
    public var sharedConnectionLinger: TimeAmount = .seconds(5)

    public init(
        host: String = "127.0.0.1", port: Int = 6380, primary: RedisURL, mode: Mode = .shadow, mirrorWrites: Bool = true,
        mirrorReads: Bool = true, readSample: Double = 0.1, mismatchLogPath: String? = nil, keysOutPath: String? = nil,
        showValues: Bool = false, queueLimit: Int = 100_000, mirrorBatch: Int = 512, ttlToleranceMs: Int64 = 1000,
        drainDeadline: TimeAmount = .seconds(5), mirrorRetryAfter: TimeAmount = .milliseconds(500), maxClients: Int = 10_000,
        metricsHost: String? = nil, metricsPort: Int? = nil
    ) {
        self.host = host
        self.port = port
        self.primary = primary
        self.mode = mode
        self.mirrorWrites = mirrorWrites
        self.mirrorReads = mirrorReads
        self.readSample = readSample
        self.mismatchLogPath = mismatchLogPath
        self.keysOutPath = keysOutPath
        self.showValues = showValues
        self.queueLimit = queueLimit
        self.mirrorBatch = mirrorBatch
        self.ttlToleranceMs = ttlToleranceMs
        self.drainDeadline = drainDeadline
        self.mirrorRetryAfter = mirrorRetryAfter
        self.maxClients = maxClients
        self.metricsHost = metricsHost
        self.metricsPort = metricsPort
    }
}
