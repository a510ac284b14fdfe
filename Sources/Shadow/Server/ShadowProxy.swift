import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RESP
import RedisClient
import ServiceLifecycle

/// `upshift shadow`: a RESP proxy that answers from the primary, mirrors to the other side,
/// compares the replies and records every divergence.
///
/// A Service: `run()` serves until the ServiceGroup shuts down gracefully, then drains (`shutdown()`);
/// `serve(onMetricsRunning:)` runs it with its `/metrics` endpoint in one group until SIGINT or SIGTERM.
public final class ShadowProxy: Sendable {
    public let configuration: ShadowConfiguration
    /// Live counters (also served on `--metrics`).
    public let metrics: ShadowMetrics
    /// Keys on which the two sides may differ: feed them to `upshift migrate --keys-from`.
    public let divergentKeys: DivergentKeys
    let engine: ShadowEngine
    private let serverChannel: any Channel
    private let logger: Logger
    /// What the run saw, once `run()` has shut it down.
    private let finished = NIOLockedValueBox<ShadowSummary?>(nil)
    private let clients: NIOLockedValueBox<[ObjectIdentifier: any Channel]>
    private let keysWriter: Task<Void, Never>?

    /// The port it listens on (the chosen one when configured with port 0).
    public var port: Int { serverChannel.localAddress?.port ?? configuration.port }

    private init(
        configuration: ShadowConfiguration, metrics: ShadowMetrics, divergentKeys: DivergentKeys, engine: ShadowEngine,
        serverChannel: any Channel, logger: Logger, clients: NIOLockedValueBox<[ObjectIdentifier: any Channel]>,
        keysWriter: Task<Void, Never>?
    ) {
        self.configuration = configuration
        self.metrics = metrics
        self.divergentKeys = divergentKeys
        self.engine = engine
        self.serverChannel = serverChannel
        self.logger = logger
        self.clients = clients
        self.keysWriter = keysWriter
    }

    /// Reads the primary's command metadata, binds the listener (and metrics), and starts serving.
    /// `mirror` is the other side (a Redis or an Upstash client); the caller closes it after `shutdown()`.
    ///
    /// Given `answeringFrom`, that side answers clients instead of one connection per client to
    /// `configuration.primary`: `.upstash` is the flip, with `mirror` (the old Redis) written for
    /// rollback; `.cluster` serves a Redis Cluster primary. The command metadata and the password
    /// clients log in with still come from `configuration.primary`.
    public static func start(
        _ configuration: ShadowConfiguration, mirror: any Backend, answeringFrom pooled: PooledPrimary? = nil,
        logger: Logger = Logger(label: "upshift.shadow")
    ) async throws -> ShadowProxy {
        let probe = RedisClient(url: configuration.primary, connections: 1)
        let table: CommandTable
        do {
            table = try await CommandTable.load(from: probe)
            await probe.close()
        } catch {
            await probe.close()
            throw ShadowError("cannot read the primary's command table (\(configuration.primary)): \(ShadowEngine.describe(error))")
        }
        let requiresAuth: Bool
        if let _ = pooled {
            requiresAuth = configuration.primary.password != nil
        } else {
            requiresAuth = configuration.logsClientsIn ? false : await Self.requiresAuth(configuration.primary)
        }
        let metrics = ShadowMetrics()
        let divergent = DivergentKeys()
        let engine = try ShadowEngine(
            configuration: configuration, table: table, mirror: mirror, pooledPrimary: pooled, metrics: metrics, divergent: divergent,
            logger: logger, requiresAuth: requiresAuth)
        let clients = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])
        let server: any Channel
        do {
            let group: any EventLoopGroup =
                configuration.threads.map { Self.groups.group(threads: $0) } ?? MultiThreadedEventLoopGroup.singleton
            server = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 1024)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelOption(.autoRead, value: false)
                .childChannelInitializer { channel in
                    let key = ObjectIdentifier(channel)
                    clients.withLockedValue { $0[key] = channel }
                    channel.closeFuture.whenComplete { _ in clients.withLockedValue { _ = $0.removeValue(forKey: key) } }
                    return channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ClientSession(engine: engine, loop: channel.eventLoop))
                    }
                }
                .bind(host: configuration.host, port: configuration.port).get()
        } catch {
            throw ShadowError("cannot listen on \(configuration.host):\(configuration.port): \(error)")
        }
        var keysWriter: Task<Void, Never>? = nil
        if let path = configuration.keysOutPath {
            keysWriter = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(nanoseconds: 2_000_000_000)
                    _ = try? await NIOThreadPool.singleton.runIfActive { try divergent.write(to: path) }
                }
            }
        }
        logger.info(
            "shadow proxy started",
            metadata: [
                "listen": "\(configuration.host):\(server.localAddress?.port ?? 0)",
                "primary": "\(pooled?.displayName ?? configuration.primary.description)",
                "mirror": "\(mirror.displayName)", "mode": "\(configuration.mode.rawValue)",
            ])
        return ShadowProxy(
            configuration: configuration, metrics: metrics, divergentKeys: divergent, engine: engine, serverChannel: server,
            logger: logger, clients: clients, keysWriter: keysWriter)
    }

    /// Event loop groups of a chosen size, made once per size and kept for the process's life.
    private static let groups = GroupCache()

    /// True when the primary refuses commands before AUTH: clients then log in themselves, as they
    /// did with Redis, and get Redis's small request limits until they have.
    static func requiresAuth(_ url: RedisURL) async -> Bool {
        var anonymous = url
        anonymous.username = nil
        anonymous.password = nil
        anonymous.database = 0
        let probe = RedisClient(url: anonymous, connections: 1)
        defer { Task { await probe.close() } }
        guard let reply = try? await probe.send(RESPCommand("PING")) else { return url.password != nil }
        if case .error(let e) = reply { return e.starts(with: Array("NOAUTH".utf8)) }
        return false
    }

    /// Stops accepting, closes client connections, drains the mirror queue (until the configured
    /// deadline), writes the keys file and flushes the mismatch log.
    public func shutdown() async -> ShadowSummary {
        try? await serverChannel.close()
        for c in clients.withLockedValue({ Array($0.values) }) { c.close(promise: nil) }
        await engine.closeShared()
        await engine.drain(until: .now() + configuration.drainDeadline)
        keysWriter?.cancel()
        var keysError: String? = nil
        if let path = configuration.keysOutPath {
            do {
                try await NIOThreadPool.singleton.runIfActive { try self.divergentKeys.write(to: path, force: true) }
            } catch {
                keysError = "\(error)"
            }
        }
        if let log = engine.log { try? await NIOThreadPool.singleton.runIfActive { log.flushNow() } }
        return ShadowSummary(
            metrics: metrics.snapshot, divergentKeys: divergentKeys.count, keysOverflowed: divergentKeys.overflowed,
            keysOutPath: configuration.keysOutPath, keysError: keysError, mismatchLogPath: configuration.mismatchLogPath,
            lostRecords: engine.log?.lostRecords ?? 0)
    }
}

extension ShadowProxy: Service {
    /// Serves until the group shuts down gracefully (or is cancelled), then drains as `shutdown()`;
    /// `serve` returns what it saw.
    public func run() async throws {
        try? await gracefulShutdown()
        let summary = await shutdown()
        finished.withLockedValue { $0 = summary }
    }

    /// Serves the proxy and, when configured, `/metrics` as one ServiceGroup until SIGINT or SIGTERM,
    /// then shuts both down (the proxy first, so the endpoint answers while it drains) and returns
    /// the run's summary. `onMetricsRunning` receives the metrics port once it is bound.
    public func serve(onMetricsRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws -> ShadowSummary {
        var services: [any Service] = []
        if let host = configuration.metricsHost, let port = configuration.metricsPort {
            services.append(
                MetricsEndpoint.application(metrics: metrics, host: host, port: port, logger: logger, onRunning: onMetricsRunning))
        }
        // A group stops its services last to first.
        services.append(self)
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        var failure: (any Error)?
        do {
            try await group.run()
        } catch {
            failure = error
        }
        let summary = finished.withLockedValue { $0 }
        if let failure {
            if let host = configuration.metricsHost, let port = configuration.metricsPort {
                throw ShadowError("cannot serve metrics on \(host):\(port): \(failure)")
            }
            throw failure
        }
        if let summary { return summary }
        return await shutdown()
    }
}
