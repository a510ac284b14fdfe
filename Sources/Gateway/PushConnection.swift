import NIOCore
import NIOPosix
import RESP
import RedisClient

/// A Redis connection of its own for one server-sent event stream: SUBSCRIBE, PSUBSCRIBE or
/// MONITOR turn a connection into a one-way stream of pushes, so it is never shared. Its values
/// arrive on `events`, with a heartbeat between them so a vanished HTTP client is noticed.
final class PushConnection: Sendable {
    /// What the stream carries.
    enum Event: Sendable {
        case value(RESPValue)
        case heartbeat
    }

    let events: AsyncThrowingStream<Event, any Error>
    private let channel: any Channel

    private init(channel: any Channel, events: AsyncThrowingStream<Event, any Error>) {
        self.channel = channel
        self.events = events
    }

    /// Connects, logs in, selects the URL's database, then sends `commands`; the replies to the
    /// login come first on `events`, checked here.
    static func open(_ url: RedisURL, commands: [RESPCommand], heartbeat: TimeAmount) async throws -> PushConnection {
        let (events, continuation) = AsyncThrowingStream<Event, any Error>.makeStream()
        var login: [RESPCommand] = []
        if let password = url.password {
            login.append(url.username.map { RESPCommand("AUTH", $0, password) } ?? RESPCommand("AUTH", password))
        }
        if url.database != 0 { login.append(RESPCommand("SELECT", url.database)) }
        let loginCount = login.count
        let loggedIn = MultiThreadedEventLoopGroup.singleton.any().makePromise(of: Void.self)
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(3))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if url.tls != nil { try RedisTLS.addHandler(to: channel, for: url) }
                    try channel.pipeline.syncOperations.addHandler(
                        PushReader(continuation: continuation, endpoint: url.endpoint, loginReplies: loginCount, loggedIn: loggedIn))
                }
            }
        let channel: any Channel
        do {
            switch url.address {
            case .tcp(let host, let port): channel = try await bootstrap.connect(host: host, port: port).get()
            case .unix(let path): channel = try await bootstrap.connect(unixDomainSocketPath: path).get()
            }
        } catch {
            loggedIn.fail(error)
            throw RedisClientError(.connectFailed, endpoint: url.endpoint, detail: "\(error)")
        }
        var bytes: [UInt8] = []
        for c in login + commands { RESPSerializer.write(c, into: &bytes) }
        let ticker = channel.eventLoop.scheduleRepeatedTask(initialDelay: heartbeat, delay: heartbeat) { _ in
            continuation.yield(.heartbeat)
        }
        channel.closeFuture.whenComplete { _ in
            ticker.cancel()
            continuation.finish()
            loggedIn.fail(RedisClientError(.connectionClosed, endpoint: url.endpoint, detail: "closed during login"))
        }
        let connection = PushConnection(channel: channel, events: events)
        do {
            try await channel.writeAndFlush(channel.allocator.buffer(bytes: bytes))
            try await loggedIn.futureResult.get()
        } catch {
            connection.close()
            throw error as? RedisClientError ?? RedisClientError(.connectionClosed, endpoint: url.endpoint, detail: "\(error)")
        }
        return connection
    }

    /// Closes the connection; `events` then ends.
    func close() {
        channel.close(promise: nil)
    }
}

/// Parses what Redis pushes and hands each value to the stream.
private final class PushReader: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let parser = RESPParser(limits: .server)
    private let continuation: AsyncThrowingStream<PushConnection.Event, any Error>.Continuation
    /// Replies to AUTH and SELECT still to come; then `loggedIn` completes.
    private var loginReplies: Int
    private let loggedIn: EventLoopPromise<Void>

    private let endpoint: String

    init(
        continuation: AsyncThrowingStream<PushConnection.Event, any Error>.Continuation, endpoint: String, loginReplies: Int,
        loggedIn: EventLoopPromise<Void>
    ) {
        self.continuation = continuation
        self.endpoint = endpoint
        self.loginReplies = loginReplies
        self.loggedIn = loggedIn
        if loginReplies == 0 { loggedIn.succeed() }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        buffer.withUnsafeReadableBytes { parser.feed($0) }
        do {
            while let value = try parser.next() {
                guard loginReplies > 0 else {
                    continuation.yield(.value(value))
                    continue
                }
                loginReplies -= 1
                if case .error(let text) = value {
                    loggedIn.fail(RedisClientError(.authFailed, endpoint: endpoint, detail: String(decoding: text, as: UTF8.self)))
                    context.close(promise: nil)
                    return
                }
                if loginReplies == 0 { loggedIn.succeed() }
            }
        } catch {
            continuation.finish(throwing: error)
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        continuation.finish(throwing: error)
        context.close(promise: nil)
    }
}
