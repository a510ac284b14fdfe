import NIOCore
import NIOPosix
import RedisClient

/// Opens a connection to the primary as the URL says (TCP or a Unix socket, TLS when `rediss://`),
/// on the event loop of the clients it serves, with `handler` at the end of its pipeline.
enum PrimaryConnector {
    static func connect(
        _ url: RedisURL, on loop: any EventLoop, handler: @escaping @Sendable () -> any ChannelHandler
    ) -> EventLoopFuture<any Channel> {
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(.seconds(5))
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if case .tcp = url.address { try channel.syncOptions?.setOption(.socketOption(.tcp_nodelay), value: 1) }
                    try RedisTLS.addHandler(to: channel, for: url)
                    try channel.pipeline.syncOperations.addHandler(handler())
                }
            }
        switch url.address {
        case .tcp(let host, let port): return bootstrap.connect(host: host, port: port)
        case .unix(let path): return bootstrap.connect(unixDomainSocketPath: path)
        }
    }
}
