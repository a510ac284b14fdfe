import JSON
import Logging
import NIOCore
import RESP

/// The gateway's common requests served where they arrive, on the connection's event loop, read
/// straight off the socket: one command or a /pipeline of commands that need no round trip to decide
/// (`immediateStep`), sent to a Redis connection on the same loop, answered from its reply.
/// Everything else — scripts' ACL and WAIT, /multi-exec, event streams, errors in the request, an ACL
/// user's token, any head this reader does not frame with certainty — goes on, as the bytes it came
/// in, to Hummingbird's HTTP/1 pipeline behind this handler, one request at a time, which keeps
/// replies in request order.
///
/// Why bytes and not Hummingbird's parsed parts: with this handler placed after Hummingbird's
/// (NIOHTTP1's parser, the HTTPTypes conversion, four handlers each way) the gateway answered
/// 13,704 GET/s where webdis answered 36,023 (0.38×), and a profile put most of its time in that
/// stack; see Benchmarks/README.md for the figures with this handler.
///
/// It also keeps the connection's clocks, since Hummingbird never sees the requests served here:
/// the head timeout (408), the idle timeout, and graceful shutdown (close once the answer is out).
final class FastPath: ChannelInboundHandler, RemovableChannelHandler, FullPathObserver {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Mode {
        /// Between requests, or a request's head or body arriving.
        case reading
        /// A fast request awaits Redis: what arrives meanwhile waits in `pending`.
        case answering
        /// A request handed to Hummingbird: this many of its bytes are still to pass on.
        case forwarding(remaining: Int)
        /// A request handed to Hummingbird is read: its response is owed before the next request.
        case awaitingFullPath
        /// NIO's parser has the connection for good (a head this reader does not frame).
        case passthrough
        case closed
    }

    private let service: FastPathService
    private let idleTimeout: TimeAmount?
    private let headerTimeout: TimeAmount?
    private var mode = Mode.reading
    private var pending: ByteBuffer?
    private var draining = false
    /// Inside a read from the socket, whose channelReadComplete follows.
    private var inReadCycle = false
    /// Bytes went on to NIO's parser since the last channelReadComplete went down: Hummingbird's
    /// async channel delivers what it read only on one.
    private var forwardedSinceComplete = false
    private var context: ChannelHandlerContext?
    private var connection: LoopConnection?

    /// Responses Hummingbird owes, and whether it is reading a request (from `RequestGuard`).
    private var owed = 0
    private var fullPathReading = false
    private var quiescing = false
    private var lastActivity = NIODeadline.now()
    private var idleTask: Scheduled<Void>?
    private var headTask: Scheduled<Void>?

    init(service: FastPathService, idleTimeout: TimeAmount?, headerTimeout: TimeAmount?) {
        self.service = service
        self.idleTimeout = idleTimeout
        self.headerTimeout = headerTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        scheduleIdleCheck(at: .now() + (idleTimeout ?? .zero))
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimers()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimers()
        mode = .closed
        pending = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = .now()
        inReadCycle = true
        var bytes = unwrapInboundIn(data)
        switch mode {
        case .closed:
            return
        case .passthrough:
            if owed == 0, !fullPathReading { armHeadTimer() }
            forwardedSinceComplete = true
            context.fireChannelRead(data)
            return
        default:
            break
        }
        if pending == nil || pending!.readableBytes == 0 {
            pending = bytes
        } else {
            pending!.writeBuffer(&bytes)
        }
        drain(context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        inReadCycle = false
        // Only after bytes went on: a read served here has nothing to complete behind this handler.
        if forwardedSinceComplete {
            forwardedSinceComplete = false
            context.fireChannelReadComplete()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent, case .answering = mode {
            quiescing = true  // closed once the answer is written
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: the full path's requests (told by RequestGuard)

    func headReceived() {
        owed += 1
        fullPathReading = true
        cancelHeadTimer()
    }

    func requestRead() {
        fullPathReading = false
    }

    func responseEnded() {
        owed -= 1
        lastActivity = .now()
        guard owed == 0, case .awaitingFullPath = mode, let context else { return }
        // After Hummingbird's `.end` has gone down the pipeline, never inside its write.
        context.eventLoop.assumeIsolated().execute { [self] in
            if let context = self.context, case .awaitingFullPath = mode, owed == 0 {
                mode = .reading
                drain(context)
            }
        }
    }

    // MARK: framing

    /// Serves or hands on the requests in `pending`, in order, until one must be waited for.
    private func drain(_ context: ChannelHandlerContext) {
        guard !draining else { return }
        draining = true
        defer {
            draining = false
            // Bytes handed on outside a read (after an answer, or after Hummingbird's response) are
            // completed here, or Hummingbird would not see them until the client sent more.
            if forwardedSinceComplete, !inReadCycle {
                forwardedSinceComplete = false
                context.fireChannelReadComplete()
            }
        }
        while var buffer = pending {
            switch mode {
            case .closed, .answering:
                return
            case .passthrough:
                pending = nil
                forward(buffer, context)
                return
            case .awaitingFullPath:
                if owed > 0 { return }
                mode = .reading
            case .forwarding(let remaining):
                let n = min(remaining, buffer.readableBytes)
                if n == 0 { return }
                let part = buffer.readSlice(length: n)!
                pending = buffer.readableBytes > 0 ? buffer : nil
                mode = remaining == n ? .awaitingFullPath : .forwarding(remaining: remaining - n)
                forward(part, context)
            case .reading:
                if buffer.readableBytes == 0 {
                    pending = nil
                    cancelHeadTimer()
                    return
                }
                let parse = buffer.withUnsafeReadableBytes { RequestHead.parse($0) }
                switch parse {
                case .incomplete:
                    armHeadTimer()
                    return
                case .unframed:
                    cancelHeadTimer()
                    mode = .passthrough
                case .head(let head):
                    cancelHeadTimer()
                    let fast = eligible(head)
                    if let fast {
                        guard buffer.readableBytes >= head.length else { return }  // the body is on its way
                        let request = buffer.getSlice(at: buffer.readerIndex, length: head.length)!
                        let body = buffer.getSlice(at: buffer.readerIndex + head.headLength, length: head.contentLength)!
                        if serve(head, route: fast.route, query: fast.query, readOnly: fast.readOnly, body: body, context: context) {
                            buffer.moveReaderIndex(forwardBy: head.length)
                            pending = buffer.readableBytes > 0 ? buffer : nil
                            continue
                        }
                        // Hummingbird answers what the fast path cannot read (its error texts live there).
                        buffer.moveReaderIndex(forwardBy: head.length)
                        pending = buffer.readableBytes > 0 ? buffer : nil
                        mode = .awaitingFullPath
                        forward(request, context)
                    } else {
                        mode = .forwarding(remaining: head.length)
                    }
                }
            }
        }
    }

    private func forward(_ bytes: ByteBuffer, _ context: ChannelHandlerContext) {
        forwardedSinceComplete = true
        context.fireChannelRead(wrapInboundOut(bytes))
    }

    /// The route, query and access of a request the fast path may serve; nil to hand it on.
    private func eligible(_ head: RequestHead) -> (route: ArraySlice<UInt8>, query: ArraySlice<UInt8>?, readOnly: Bool)? {
        guard head.method != .other, !head.needsFullPath, !quiescing, let target = head.target,
            head.contentLength <= service.configuration.requestLimit
        else { return nil }
        let mark = target.firstIndex(of: UInt8(ascii: "?"))
        let route = target[..<(mark ?? target.endIndex)]
        let query = mark.map { target[($0 + 1)...] }
        if route.elementsEqual(Self.multiExec) || route.starts(with: Self.subscribe) || route.starts(with: Self.psubscribe)
            || route.starts(with: Self.monitor)
        {
            return nil
        }
        guard let readOnly = service.access(authorization: head.authorization, query: query) else { return nil }
        return (route, query, readOnly)
    }

    private static let multiExec: [UInt8] = Array("/multi-exec".utf8)
    private static let subscribe: [UInt8] = Array("/subscribe".utf8)
    private static let psubscribe: [UInt8] = Array("/psubscribe".utf8)
    private static let monitor: [UInt8] = Array("/monitor".utf8)
    private static let pipeline: [UInt8] = Array("/pipeline".utf8)
    private static let pipelineSlash: [UInt8] = Array("/pipeline/".utf8)
    private static let base64: [UInt8] = Array("base64".utf8)

    // MARK: answering

    /// Sends the request's commands to Redis and answers from the replies; false to hand it on.
    private func serve(
        _ head: RequestHead, route: ArraySlice<UInt8>, query: ArraySlice<UInt8>?, readOnly: Bool, body: ByteBuffer,
        context: ChannelHandlerContext
    ) -> Bool {
        let start = ContinuousClock.now
        guard let table = service.executor.loadedTable, let connection = redis(context) else { return false }
        let encoding: ResultEncoding = head.encoding.map { Self.isBase64($0) } == true ? .base64 : .json
        let bytes = Array(body.readableBytesView)
        let commands: [[[UInt8]]]
        let batch: Bool
        if route.count == 1 {
            guard head.method == .post, let command = try? RequestCommands.single(json: bytes) else { return false }
            (commands, batch) = ([command], false)
        } else if route.elementsEqual(Self.pipeline) || route.elementsEqual(Self.pipelineSlash) {
            guard head.method == .post, let all = try? RequestCommands.batch(json: bytes) else { return false }
            (commands, batch) = (all, true)
        } else {
            guard
                let command = try? RequestCommands.pathForm(path: route, query: query, body: head.method == .post ? bytes : nil),
                table.info(for: command) != nil
            else { return false }
            (commands, batch) = ([command], false)
        }
        var planned: [GatewayStep] = []
        planned.reserveCapacity(commands.count)
        for args in commands {
            guard let step = service.executor.immediateStep(for: args, readOnly: readOnly, table: table) else { return false }
            planned.append(step)
        }
        let steps = planned
        var wire: [UInt8] = []
        var sent = 0
        for case .send(let p) in steps {
            RESPSerializer.write(RESPCommand(arguments: p.arguments), into: &wire)
            sent += 1
        }
        mode = .answering
        let close = head.close
        let replies: EventLoopFuture<[RESPValue]> =
            sent == 0 ? context.eventLoop.makeSucceededFuture([]) : connection.send(wire, replies: sent)
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        replies.whenComplete { result in
            let (handler, context) = loopBound.value
            let status: Int
            let json: [UInt8]
            switch result {
            case .success(let values):
                var next = values.makeIterator()
                let all: [RESPValue] = steps.map { step in
                    switch step {
                    case .answer(let v): return v
                    case .send(let p): return p.transform.apply(next.next() ?? .null)
                    case .dedicated: return .null  // never chosen by immediateStep
                    }
                }
                if batch {
                    (status, json) = (200, JSONWriter.encode(.array(all.map { encoding.envelope($0) })))
                } else {
                    (status, json) = (all[0].isError ? 400 : 200, JSONWriter.encode(encoding.envelope(all[0])))
                }
            case .failure(let error):
                handler.service.logger.warning("redis unavailable", metadata: ["error": "\(error)"])
                (status, json) = (503, JSONWriter.encode(ResultEncoding.error("ERR upstream redis unavailable: connection closed")))
            }
            handler.respond(status, json, close: close || handler.quiescing, context: context)
            handler.service.logger.debug(
                "request",
                metadata: [
                    "method": "\(head.method == .get ? "GET" : "POST")", "path": "\(String(decoding: route, as: UTF8.self))",
                    "status": "\(status)", "ms": "\((ContinuousClock.now - start).components.attoseconds / 1_000_000_000_000_000)",
                    "path-taken": "fast",
                ])
        }
        return true
    }

    /// This loop's Redis connection, kept while it is up.
    private func redis(_ context: ChannelHandlerContext) -> LoopConnection? {
        if let connection, connection.isActive { return connection }
        connection = service.connections.connection(on: context.eventLoop)
        return connection
    }

    private static func isBase64(_ value: [UInt8]) -> Bool {
        value.count == base64.count && zip(value, base64).allSatisfy { ($0 >= 65 && $0 <= 90 ? $0 | 0x20 : $0) == $1 }
    }

    private func respond(_ status: Int, _ json: [UInt8], close: Bool, context: ChannelHandlerContext) {
        var out = context.channel.allocator.buffer(capacity: json.count + 160)
        out.writeStaticString("HTTP/1.1 ")
        out.writeDecimal(status)
        switch status {
        case 200: out.writeStaticString(" OK")
        case 400: out.writeStaticString(" Bad Request")
        default: out.writeStaticString(" Service Unavailable")
        }
        out.writeStaticString("\r\nContent-Type: application/json\r\nContent-Length: ")
        out.writeDecimal(json.count)
        out.writeStaticString("\r\nUpstash-Sync-Token: gw-")
        out.writeDecimal(service.syncTokens.nextNumber())
        if close { out.writeStaticString("\r\nConnection: close") }
        out.writeStaticString("\r\n\r\n")
        out.writeBytes(json)
        lastActivity = .now()
        if close {
            mode = .closed
            pending = nil
            context.writeAndFlush(wrapOutboundOut(out)).whenComplete { [channel = context.channel] _ in channel.close(promise: nil) }
            return
        }
        context.writeAndFlush(wrapOutboundOut(out), promise: nil)
        mode = .reading
        drain(context)
    }

    // MARK: clocks

    private func armHeadTimer() {
        guard headTask == nil, let headerTimeout, let context else { return }
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        headTask = context.eventLoop.scheduleTask(in: headerTimeout) { loopBound.value.headExpired() }
    }

    private func cancelHeadTimer() {
        headTask?.cancel()
        headTask = nil
    }

    private func headExpired() {
        headTask = nil
        guard let context else { return }
        mode = .closed
        pending = nil
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: HeadTimer.timeoutReply)), promise: nil)
        context.close(promise: nil)
    }

    /// One timer per connection, moved on only when it fires: the idle rule costs nothing per request.
    private func scheduleIdleCheck(at deadline: NIODeadline) {
        guard idleTimeout != nil, let context else { return }
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        idleTask = context.eventLoop.scheduleTask(deadline: deadline) { loopBound.value.idleCheck() }
    }

    private func idleCheck() {
        idleTask = nil
        guard let idleTimeout, let context else { return }
        var busy = owed > 0 && !fullPathReading
        if case .answering = mode { busy = true }
        if busy { return scheduleIdleCheck(at: .now() + idleTimeout) }
        if NIODeadline.now() >= lastActivity + idleTimeout {
            context.close(promise: nil)
        } else {
            scheduleIdleCheck(at: lastActivity + idleTimeout)
        }
    }

    private func cancelTimers() {
        cancelHeadTimer()
        idleTask?.cancel()
        idleTask = nil
    }
}

/// Told by `RequestGuard` where the requests Hummingbird reads begin and end.
protocol FullPathObserver: AnyObject {
    /// A request's head has been decoded.
    func headReceived()
    /// A request's end has been decoded.
    func requestRead()
    /// A response's end has been written.
    func responseEnded()
}

extension ByteBuffer {
    /// `value` in decimal ASCII, without going through a String.
    fileprivate mutating func writeDecimal<T: BinaryInteger>(_ value: T) {
        var v = UInt64(value)
        var digits = 1
        var rest = v
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        writeWithUnsafeMutableBytes(minimumWritableBytes: digits) { out in
            var i = digits
            repeat {
                i -= 1
                out[i] = UInt8(v % 10) + 0x30
                v /= 10
            } while i > 0
            return digits
        }
    }
}
