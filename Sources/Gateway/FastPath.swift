import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import RESP
import UpstashClient

/// What the event-loop fast path shares across connections.
struct FastPathService: Sendable {
    let executor: GatewayExecutor
    let connections: LoopConnections
    let configuration: GatewayConfiguration
    let syncTokens: SyncTokens
    let logger: Logger
    private let token: [UInt8]
    private let readOnlyToken: [UInt8]?

    init(executor: GatewayExecutor, configuration: GatewayConfiguration, syncTokens: SyncTokens, logger: Logger) {
        self.executor = executor
        self.connections = LoopConnections(url: configuration.redis)
        self.configuration = configuration
        self.syncTokens = syncTokens
        self.logger = logger
        self.token = Array(configuration.token.utf8)
        self.readOnlyToken = configuration.readOnlyToken.map { Array($0.utf8) }
    }

    /// Whether the token is the read-only one; nil for anything the fast path leaves to the full path
    /// (no token, a wrong one, an ACL user's).
    func access(_ head: HTTPRequest, query: Substring?) -> Bool? {
        var presented: [UInt8]?
        if let header = head.headerFields[.authorization] {
            guard header.utf8.count > 7, header.lowercased().hasPrefix("bearer ") else { return nil }
            presented = Array(header.utf8.dropFirst(7))
        } else if let query {
            for pair in query.utf8.split(separator: UInt8(ascii: "&")) where pair.starts(with: Array("_token=".utf8)) {
                presented = RequestCommands.percentDecode(Array(pair.dropFirst(7)))
            }
        }
        guard let presented else { return nil }
        if constantTimeEqual(presented, token) { return false }
        if let readOnlyToken, constantTimeEqual(presented, readOnlyToken) { return true }
        return nil
    }
}

/// The gateway's common requests served where they arrive, on the connection's event loop: one
/// command or a /pipeline of commands that need no round trip to decide (`immediateStep`), sent to a
/// Redis connection on the same loop, answered from its reply. Everything else — scripts, ACL, WAIT,
/// /multi-exec, event streams, errors in the request, an ACL user's token — goes on to Hummingbird's
/// responder unchanged; so does every request while one of those is in flight, which keeps replies
/// in request order.
final class FastPath: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPConnectionStateHandler.InboundOut
    typealias InboundOut = HTTPConnectionStateHandler.InboundOut
    typealias OutboundIn = HTTPConnectionStateHandler.OutboundIn
    typealias OutboundOut = HTTPConnectionStateHandler.OutboundIn

    private enum State {
        case idle
        /// A request the fast path may serve, its body being gathered.
        case collecting(HTTPRequest, ByteBuffer)
        /// A fast request awaits Redis: what arrives meanwhile waits in `held`.
        case answering
        /// A request was handed to Hummingbird: its remaining parts follow it.
        case forwarding
    }

    private let service: FastPathService
    private var state = State.idle
    private var held: [NIOAny] = []
    /// Responses Hummingbird still owes: while any, every request goes its way.
    private var forwardedInFlight = 0

    init(service: FastPathService) {
        self.service = service
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .answering = state {
            held.append(data)
            return
        }
        let part = unwrapInboundIn(data)
        switch (state, part) {
        case (.forwarding, .end):
            state = .idle
            context.fireChannelRead(data)
        case (.forwarding, _):
            context.fireChannelRead(data)
        case (.idle, .head(let head)):
            if forwardedInFlight == 0, eligible(head) {
                state = .collecting(head, context.channel.allocator.buffer(capacity: 0))
            } else {
                forward(head, context: context)
            }
        case (.collecting(let head, var body), .body(let chunk)):
            if body.readableBytes + chunk.readableBytes > service.configuration.requestLimit {
                forward(head, context: context)  // Hummingbird answers 413 as it reads on
                context.fireChannelRead(wrapInboundOut(.body(body)))
                context.fireChannelRead(data)
            } else {
                body.writeImmutableBuffer(chunk)
                state = .collecting(head, body)
            }
        case (.collecting(let head, let body), .end):
            if !answer(head, body: body, context: context) {
                forward(head, context: context)
                if body.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(.body(body))) }
                state = .idle
                context.fireChannelRead(data)
            }
        default:
            context.fireChannelRead(data)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // Only Hummingbird's responses pass here: the fast path writes from this handler's context.
        if case .end = unwrapOutboundIn(data) { forwardedInFlight -= 1 }
        context.write(data, promise: promise)
    }

    private func forward(_ head: HTTPRequest, context: ChannelHandlerContext) {
        forwardedInFlight += 1
        state = .forwarding
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }

    /// The fast path takes plain commands with the standard or read-only token, JSON replies only.
    private func eligible(_ head: HTTPRequest) -> Bool {
        guard head.method == .get || head.method == .post, head.headerFields[GatewayResponder.formatHeader] == nil,
            let path = head.path
        else { return false }
        let parts = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let route = parts[0]
        if route == "/multi-exec" || route.hasPrefix("/subscribe") || route.hasPrefix("/psubscribe") || route.hasPrefix("/monitor") {
            return false
        }
        // Decided on the head: a request without a valid token gets its 401 before its body arrives.
        return service.access(head, query: parts.count > 1 ? parts[1] : nil) != nil
    }

    /// Serves the request here when it can; false to hand it on.
    private func answer(_ head: HTTPRequest, body: ByteBuffer, context: ChannelHandlerContext) -> Bool {
        let start = ContinuousClock.now
        guard let path = head.path, let table = service.executor.loadedTable else { return false }
        let parts = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let route = String(parts[0])
        let query = parts.count > 1 ? parts[1] : nil
        guard let readOnly = service.access(head, query: query),
            let encoding = try? ResultEncoding.from(
                encoding: head.headerFields[GatewayResponder.encodingHeader], format: nil),
            let connection = service.connections.connection(on: context.eventLoop)
        else { return false }
        let bytes = Array(body.readableBytesView)
        let commands: [[[UInt8]]]
        let batch: Bool
        switch route {
        case "/", "":
            guard head.method == .post, let command = try? RequestCommands.single(json: bytes) else { return false }
            (commands, batch) = ([command], false)
        case "/pipeline", "/pipeline/":
            guard head.method == .post, let all = try? RequestCommands.batch(json: bytes) else { return false }
            (commands, batch) = (all, true)
        default:
            guard
                let command = try? RequestCommands.pathForm(
                    path: route, query: query.map(String.init), body: head.method == .post ? bytes : nil),
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
        state = .answering
        let closeAfter = head.headerFields[.connection]?.lowercased() == "close"
        let replies: EventLoopFuture<[RESPValue]> =
            sent == 0 ? context.eventLoop.makeSucceededFuture([]) : connection.send(wire, replies: sent)
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        replies.whenComplete { result in
            let (handler, context) = loopBound.value
            var response: (Int, [UInt8])
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
                    response = (200, JSONWriter.encode(.array(all.map { encoding.envelope($0) })))
                } else {
                    response = (all[0].isError ? 400 : 200, JSONWriter.encode(encoding.envelope(all[0])))
                }
            case .failure(let error):
                handler.service.logger.warning("redis unavailable", metadata: ["error": "\(error)"])
                response = (503, JSONWriter.encode(ResultEncoding.error("ERR upstream redis unavailable: connection closed")))
            }
            handler.respond(response.0, response.1, close: closeAfter, context: context)
            handler.service.logger.debug(
                "request",
                metadata: [
                    "method": "\(head.method)", "path": "\(route)", "status": "\(response.0)",
                    "ms": "\((ContinuousClock.now - start).components.attoseconds / 1_000_000_000_000_000)", "path-taken": "fast",
                ])
        }
        return true
    }

    private func respond(_ status: Int, _ json: [UInt8], close: Bool, context: ChannelHandlerContext) {
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        fields[.contentLength] = String(json.count)
        fields[GatewayResponder.syncTokenHeader] = service.syncTokens.next()
        if close { fields[.connection] = "close" }
        context.write(wrapOutboundOut(.head(HTTPResponse(status: .init(code: status), headerFields: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(context.channel.allocator.buffer(bytes: json))), promise: nil)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if close {
            done.whenComplete { [channel = context.channel] _ in channel.close(promise: nil) }
        }
        state = .idle
        let waiting = held
        held = []
        for data in waiting { channelRead(context: context, data: data) }
    }
}

/// The `Upstash-Sync-Token` each response carries: a counter shared by both paths.
final class SyncTokens: Sendable {
    private let counter = NIOLockedValueBox<UInt64>(0)

    func next() -> String {
        "gw-\(counter.withLockedValue { $0 += 1; return $0 })"
    }
}
