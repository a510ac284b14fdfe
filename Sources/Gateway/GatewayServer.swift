import Hummingbird
import Logging
import NIOCore
import RedisClient

/// The local Upstash-compatible REST endpoint in front of a redis-server.
public enum GatewayServer {
    /// Builds the application, so tests can run it in-process on port 0.
    /// `onRunning` receives the bound port.
    public static func buildApplication(
        _ configuration: GatewayConfiguration,
        logger: Logger = Logger(label: "upshift.gateway"),
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let redis = SharedRedis(url: configuration.redis, connections: configuration.redisConnections, logger: logger)
        let executor = GatewayExecutor(
            redis: redis,
            policy: CommandPolicy(
                compatibility: configuration.compatibility, plan: configuration.plan, maxRecordBytes: configuration.maxRecordBytes))
        let syncTokens = SyncTokens()
        let responder = GatewayResponder(
            configuration: configuration, executor: executor,
            auth: GatewayAuth(configuration: configuration, main: executor, logger: logger),
            streams: EventStreams(limit: configuration.maxSubscribers), syncTokens: syncTokens, logger: logger)
        let fastPath =
            configuration.fastPath
            ? FastPathService(executor: executor, configuration: configuration, syncTokens: syncTokens, logger: logger) : nil
        return Application(
            responder: responder,
            server: GuardedHTTP1Channel.builder(
                idleTimeout: configuration.idleTimeout, headerTimeout: configuration.headerTimeout,
                requestLimit: configuration.requestLimit, fastPath: fastPath),
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port), serverName: "upshift-gateway"),
            onServerRunning: { channel in
                // Read the command table now: the fast path serves only once it is known.
                _ = try? await executor.table()
                await onRunning(channel.localAddress?.port ?? configuration.port)
            },
            logger: logger
        )
    }

    /// Serves until SIGINT or SIGTERM, then shuts down gracefully.
    public static func run(_ configuration: GatewayConfiguration, logger: Logger, onRunning: @escaping @Sendable (Int) async -> Void)
        async throws
    {
        try await buildApplication(configuration, logger: logger, onRunning: onRunning).runService()
    }
}
