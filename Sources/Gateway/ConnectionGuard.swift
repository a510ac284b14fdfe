import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// The HTTP/1 server of the gateway: Hummingbird's, with the guards any HTTP server has in front of it.
///
/// - a request's head (request line and headers) must arrive within `headerTimeout` of its first byte,
///   or the connection gets a 408 and is closed (a slow client cannot hold a connection open by
///   trickling headers);
/// - a connection with no request in flight is closed after `idleTimeout` (Hummingbird's own timer,
///   which also closes a connection whose body stalls that long);
/// - a request whose declared Content-Length is over the limit is answered 413 at once, before its
///   body is read, and the connection closed.
struct GuardedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value
    let inner: HTTP1Channel
    let idleTimeout: TimeAmount?
    let headerTimeout: TimeAmount?
    /// Serves plain commands on the connection's event loop (see `FastPath`); nil leaves all to Hummingbird.
    let fastPath: FastPathService?

    static func builder(idleTimeout: Duration?, headerTimeout: Duration?, requestLimit: Int, fastPath: FastPathService?)
        -> HTTPServerBuilder
    {
        HTTPServerBuilder { responder in
            GuardedHTTP1Channel(
                inner: HTTP1Channel(
                    responder: responder,
                    configuration: .init(
                        additionalChannelHandlers: [RequestGuard(requestLimit: requestLimit)],
                        // With the fast path in front, Hummingbird never sees the requests served there: the
                        // fast path keeps the idle clock for both.
                        idleTimeout: fastPath == nil ? idleTimeout.map { TimeAmount($0) } : nil)),
                idleTimeout: idleTimeout.map { TimeAmount($0) }, headerTimeout: headerTimeout.map { TimeAmount($0) },
                fastPath: fastPath)
        }
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let sync = channel.pipeline.syncOperations
            let requestGuard = try sync.handler(type: RequestGuard.self)
            if let fastPath {
                // In front of NIO's HTTP parser: the fast path reads the bytes and hands on what it does not serve.
                let handler = FastPath(service: fastPath, idleTimeout: idleTimeout, headerTimeout: headerTimeout)
                try sync.addHandler(handler, position: .first)
                requestGuard.observer = handler
            } else if let headerTimeout {
                let timer = HeadTimer(timeout: headerTimeout)
                try sync.addHandler(timer, position: .first)
                requestGuard.observer = timer
            }
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}

/// Sees raw bytes: starts the head timer when the first byte of a request arrives (the fast path
/// keeps this clock itself when it is on).
final class HeadTimer: ChannelInboundHandler, RemovableChannelHandler, FullPathObserver {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        case awaitingRequest
        case receivingHead(Scheduled<Void>)
        case inRequest
    }
    private var state = State.awaitingRequest
    private let timeout: TimeAmount

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .awaitingRequest = state {
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let timer = context.eventLoop.scheduleTask(in: timeout) {
                let (timer, context) = loopBound.value
                timer.expired(context: context)
            }
            state = .receivingHead(timer)
        }
        context.fireChannelRead(data)
    }

    /// The request's head has been decoded.
    func headReceived() {
        if case .receivingHead(let timer) = state { timer.cancel() }
        state = .inRequest
    }

    func requestRead() {}

    /// The response's end has been written: the next bytes start a new request.
    func responseEnded() {
        if case .receivingHead(let timer) = state { timer.cancel() }
        state = .awaitingRequest
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .receivingHead(let timer) = state { timer.cancel() }
        state = .inRequest
        context.fireChannelInactive()
    }

    /// What a client gets when its request's head is late, from here or from the fast path.
    static let timeoutReply = "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"

    private func expired(context: ChannelHandlerContext) {
        guard case .receivingHead = state else { return }
        state = .inRequest
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: Self.timeoutReply)), promise: nil)
        context.close(promise: nil)
    }
}

/// Sees decoded HTTP parts: tells the head timer where requests begin and end, answers an
/// over-limit Content-Length with 413 before the body is read, and closes the connection when the
/// client hangs up during an event stream (Hummingbird keeps a half-closed connection open, so the
/// stream, and its Redis connection, would otherwise outlive the client).
final class RequestGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPConnectionStateHandler.InboundIn
    typealias InboundOut = HTTPConnectionStateHandler.InboundOut
    typealias OutboundIn = HTTPConnectionStateHandler.OutboundIn
    typealias OutboundOut = HTTPConnectionStateHandler.OutboundOut

    private let requestLimit: Int
    private var refusing = false
    private var streaming = false
    /// The head timer, or the fast path, which keep the connection's clocks.
    var observer: (any FullPathObserver)?

    init(requestLimit: Int) {
        self.requestLimit = requestLimit
    }

    func handlerAdded(context: ChannelHandlerContext) {}

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if refusing { return }
        if case .end = part { observer?.requestRead() }
        if case .head(let head) = part {
            observer?.headReceived()
            if let declared = head.headerFields[.contentLength].flatMap({ Int($0) }), declared > requestLimit {
                refusing = true
                var fields = HTTPFields()
                fields[.contentType] = "application/json"
                fields[.connection] = "close"
                let body = context.channel.allocator.buffer(string: "{\"error\":\"ERR max request size exceeded\"}")
                fields[.contentLength] = "\(body.readableBytes)"
                context.write(wrapOutboundOut(.head(HTTPResponse(status: .contentTooLarge, headerFields: fields))), promise: nil)
                context.write(wrapOutboundOut(.body(body)), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { [channel = context.channel] _ in
                    channel.close(promise: nil)
                }
                return
            }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head):
            streaming = head.headerFields[.contentType] == "text/event-stream"
            context.write(data, promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            streaming = false
            // Written first: what the observer sends next must follow this response on the wire.
            context.write(data, promise: promise)
            observer?.responseEnded()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if streaming, let event = event as? ChannelEvent, event == .inputClosed {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
