import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RESP
import RedisClient

/// A Redis connection on the same event loop as the HTTP connections it serves, spoken to with
/// futures: a request on the fast path goes from the HTTP socket to Redis and back without leaving
/// its thread. (RedisClient's connection is async/await only; each await there is a thread hop.)
final class LoopConnection: Sendable {
    private let channel: any Channel

    private init(channel: any Channel) {
        self.channel = channel
    }

    /// True while it can carry requests.
    var isActive: Bool { channel.isActive }

    /// Connects on `eventLoop`, logs in and selects the URL's database.
    static func connect(_ url: RedisURL, on eventLoop: any EventLoop) -> EventLoopFuture<LoopConnection> {
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(.seconds(3))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if case .tcp = url.address { try channel.syncOptions?.setOption(.socketOption(.tcp_nodelay), value: 1) }
                    if url.tls != nil { try RedisTLS.addHandler(to: channel, for: url) }
                    try channel.pipeline.syncOperations.addHandler(ReplyQueue())
                }
            }
        let connected: EventLoopFuture<any Channel>
        switch url.address {
        case .tcp(let host, let port): connected = bootstrap.connect(host: host, port: port)
        case .unix(let path): connected = bootstrap.connect(unixDomainSocketPath: path)
        }
        return connected.flatMap { channel in
            let connection = LoopConnection(channel: channel)
            var login: [RESPCommand] = []
            if let password = url.password {
                login.append(url.username.map { RESPCommand("AUTH", $0, password) } ?? RESPCommand("AUTH", password))
            }
            if url.database != 0 { login.append(RESPCommand("SELECT", url.database)) }
            guard !login.isEmpty else { return eventLoop.makeSucceededFuture(connection) }
            var bytes: [UInt8] = []
            for c in login { RESPSerializer.write(c, into: &bytes) }
            return connection.send(bytes, replies: login.count).flatMapThrowing { replies in
                if let refused = replies.first(where: \.isError) {
                    channel.close(promise: nil)
                    throw RedisClientError(.authFailed, endpoint: url.endpoint, detail: refused.description)
                }
                return connection
            }
        }
    }

    /// Writes `bytes` (RESP commands producing `replies` replies); the future completes on the loop.
    func send(_ bytes: [UInt8], replies: Int) -> EventLoopFuture<[RESPValue]> {
        let promise = channel.eventLoop.makePromise(of: [RESPValue].self)
        channel.writeAndFlush(ReplyQueue.Request(bytes: bytes, replies: replies, promise: promise)).whenFailure { promise.fail($0) }
        return promise.futureResult
    }

    func close() {
        channel.close(promise: nil)
    }
}

/// Hands each request its replies, in order: Redis answers a connection's commands in the order sent.
private final class ReplyQueue: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = Request
    typealias OutboundOut = ByteBuffer

    struct Request: Sendable {
        let bytes: [UInt8]
        let replies: Int
        let promise: EventLoopPromise<[RESPValue]>
    }

    private let parser = RESPParser(limits: .server)
    private var waiting = CircularBuffer<(count: Int, promise: EventLoopPromise<[RESPValue]>)>()
    private var collected: [RESPValue] = []

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        waiting.append((request.replies, request.promise))
        context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: request.bytes)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        unwrapInboundIn(data).withUnsafeReadableBytes { parser.feed($0) }
        do {
            while let value = try parser.next() {
                guard let head = waiting.first else { throw UnaskedReply() }
                collected.append(value)
                if collected.count == head.count {
                    waiting.removeFirst()
                    head.promise.succeed(collected)
                    collected = []
                }
            }
        } catch {
            fail(context, error)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(context, ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context, error)
    }

    private func fail(_ context: ChannelHandlerContext, _ error: any Error) {
        collected = []
        while let w = waiting.popFirst() { w.promise.fail(error) }
        context.close(promise: nil)
    }
}

/// Redis sent a reply with no request waiting for it.
private struct UnaskedReply: Error {}

/// One `LoopConnection` per event loop, opened on first use.
final class LoopConnections: Sendable {
    private let url: RedisURL
    private let byLoop = NIOLockedValueBox<[ObjectIdentifier: LoopConnection]>([:])
    private let opening = NIOLockedValueBox<Set<ObjectIdentifier>>([])

    init(url: RedisURL) {
        self.url = url
    }

    /// The connection of `eventLoop` when it is up; otherwise nil, and one is being opened for next time.
    func connection(on eventLoop: any EventLoop) -> LoopConnection? {
        let key = ObjectIdentifier(eventLoop)
        if let c = byLoop.withLockedValue({ $0[key] }), c.isActive { return c }
        let start = opening.withLockedValue { $0.insert(key).inserted }
        if start {
            LoopConnection.connect(url, on: eventLoop).whenComplete { [byLoop, opening] result in
                if case .success(let c) = result { byLoop.withLockedValue { $0[key] = c } }
                opening.withLockedValue { _ = $0.remove(key) }
            }
        }
        return nil
    }

    func close() {
        for c in byLoop.withLockedValue({ $0.values }) { c.close() }
    }
}
