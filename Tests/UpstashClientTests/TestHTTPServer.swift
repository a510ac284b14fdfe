import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A request as the test server received it.
struct RecordedRequest: Sendable {
    var method: String
    /// The request target as sent (path, percent-encoding untouched).
    var uri: String
    /// Header values by lower-cased name.
    var headers: [String: String]
    var body: [UInt8]
    /// When its last byte arrived.
    var receivedAt: ContinuousClock.Instant
}

/// What the test server answers.
struct CannedResponse: Sendable {
    var status: Int
    var body: [UInt8]
    var headers: [String: String] = ["content-type": "application/json"]
    /// Held back this long before it is written.
    var delay: Duration? = nil

    static func json(_ status: Int, _ text: String) -> CannedResponse {
        CannedResponse(status: status, body: Array(text.utf8))
    }
}

/// A real HTTP/1.1 server on a free local port (NIO), answering each request with a closure and
/// recording what it saw, so the client's HTTP behaviour (retries, pacing, splitting, keep-alive)
/// is tested over real sockets.
final class TestHTTPServer: Sendable {
    typealias Responder = @Sendable (RecordedRequest) -> CannedResponse

    let port: Int
    private let channel: any Channel
    private let state: State

    final class State: Sendable {
        let responder: Responder
        let requests = NIOLockedValueBox<[RecordedRequest]>([])
        let connections = NIOLockedValueBox<Int>(0)
        init(responder: @escaping Responder) { self.responder = responder }
    }

    private init(port: Int, channel: any Channel, state: State) {
        self.port = port
        self.channel = channel
        self.state = state
    }

    /// Starts a server on 127.0.0.1 and a free port.
    static func start(_ responder: @escaping Responder) async throws -> TestHTTPServer {
        let state = State(responder: responder)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                state.connections.withLockedValue { $0 += 1 }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(RequestHandler(state: state))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        guard let port = channel.localAddress?.port else { throw TestServerError("no local port") }
        return TestHTTPServer(port: port, channel: channel, state: state)
    }

    /// Runs `body` with a server and closes it afterwards.
    static func with<T>(_ responder: @escaping Responder, _ body: (TestHTTPServer) async throws -> T) async throws -> T {
        let server = try await start(responder)
        do {
            let result = try await body(server)
            try? await server.stop()
            return result
        } catch {
            try? await server.stop()
            throw error
        }
    }

    /// `http://127.0.0.1:PORT`.
    var url: String { "http://127.0.0.1:\(port)" }

    /// Every request so far, in arrival order.
    var requests: [RecordedRequest] { state.requests.withLockedValue { $0 } }

    /// TCP connections accepted so far.
    var connectionCount: Int { state.connections.withLockedValue { $0 } }

    func stop() async throws {
        try await channel.close()
    }
}

struct TestServerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

private final class RequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let state: TestHTTPServer.State
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(state: TestHTTPServer.State) { self.state = state }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body = []
        case .body(let buffer):
            body.append(contentsOf: buffer.readableBytesView)
        case .end:
            guard let head else { return }
            var headers: [String: String] = [:]
            for (name, value) in head.headers { headers[name.lowercased()] = value }
            let request = RecordedRequest(
                method: "\(head.method)", uri: head.uri, headers: headers, body: body, receivedAt: .now)
            state.requests.withLockedValue { $0.append(request) }
            let response = state.responder(request)
            let keepAlive = head.isKeepAlive
            if let delay = response.delay {
                let ms = Int64(delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000)
                let loop = context.eventLoop.assumeIsolated()
                let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
                loop.scheduleTask(in: .milliseconds(ms)) {
                    self.write(response, keepAlive: keepAlive, context: bound.value)
                }
            } else {
                write(response, keepAlive: keepAlive, context: context)
            }
            self.head = nil
        }
    }

    private func write(_ response: CannedResponse, keepAlive: Bool, context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        var headers = HTTPHeaders()
        for (k, v) in response.headers { headers.add(name: k, value: v) }
        headers.add(name: "content-length", value: "\(response.body.count)")
        if !keepAlive { headers.add(name: "connection", value: "close") }
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: response.body)))), promise: nil)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
