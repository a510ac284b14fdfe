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
                        idleTimeout: idleTimeout.map { TimeAmount($0) })),
                headerTimeout: headerTimeout.map { TimeAmount($0) }, fastPath: fastPath)
        }
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let sync = channel.pipeline.syncOperations
            if let headerTimeout { try sync.addHandler(HeadTimer(timeout: headerTimeout), position: .first) }
            if let fastPath {
                // After Hummingbird's connection-state handler, so that its idle timer and graceful
                // shutdown count the requests served here too.
                let state = try sync.handler(type: HTTPConnectionStateHandler.self)
                try sync.addHandler(FastPath(service: fastPath), position: .after(state))
            }
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}

/// Sees raw bytes: starts the head timer when the first byte of a request arrives.
final class HeadTimer: ChannelInboundHandler, RemovableChannelHandler {
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

    private func expired(context: ChannelHandlerContext) {
        guard case .receivingHead = state else { return }
        state = .inRequest
        let reply = "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: reply)), promise: nil)
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
    private var timer: HeadTimer?

    init(requestLimit: Int) {
        self.requestLimit = requestLimit
    }

    func handlerAdded(context: ChannelHandlerContext) {}

    private func headTimer(_ context: ChannelHandlerContext) -> HeadTimer? {
        if timer == nil { timer = try? context.pipeline.syncOperations.handler(type: HeadTimer.self) }
        return timer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if refusing { return }
        if case .head(let head) = part {
            headTimer(context)?.headReceived()
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
        case .head(let head): streaming = head.headerFields[.contentType] == "text/event-stream"
        case .body: break
        case .end:
            streaming = false
            headTimer(context)?.responseEnded()
        }
        context.write(data, promise: promise)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if streaming, let event = event as? ChannelEvent, event == .inputClosed {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
