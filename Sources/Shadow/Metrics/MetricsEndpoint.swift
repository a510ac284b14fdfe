import Hummingbird
import Logging
import NIOCore

/// `GET /metrics`: the proxy's Prometheus registry as text, served by Hummingbird (a Service, run
/// in the proxy's ServiceGroup). Every other path is 404.
enum MetricsEndpoint {
    /// The application; `onRunning` receives the bound port (the one picked for port 0).
    static func application(
        metrics: ShadowMetrics, host: String, port: Int, logger: Logger, onRunning: @escaping @Sendable (Int) async -> Void
    ) -> some ApplicationProtocol {
        let router = Router()
        router.get("/metrics") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.registry.emitToBuffer())))
        }
        return Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "upshift-shadow"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
            logger: logger)
    }
}
