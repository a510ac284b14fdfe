import Foundation
import NIOCore
import NIOPosix
import RESP
import RedisClient

/// One client connection and its own primary connection, so SELECT, MULTI/EXEC, WATCH, blocking
/// commands and pub/sub keep their per-connection meaning. Lives on one event loop: the client's
/// channel and the primary's channel share it, and neither ever waits on the mirror.
///
/// The protocol logic is `ClientSessionState`; this handler only runs its actions. Every path that
/// closes the client closes its primary connection too, and the other way round.
final class ClientSession: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let engine: ShadowEngine
    let id: UInt64
    let queue: MirrorQueue
    private var state: ClientSessionState
    private var context: ChannelHandlerContext?
    private var primary: (any PrimaryLink)?
    private var closed = false
    private var primaryWritable = true
    private var reading = false
    private var graceScheduled = false
    private var recordedReplication = false
    /// Commands forwarded in one write and not yet all answered, with when they were written.
    private var batches = CircularBuffer<(remaining: Int, at: NIODeadline)>()
    /// Counts not yet handed to the shared metrics (one lock per many commands).
    private var proxied = 0
    private var latencies: [Double] = []
    private var lastReport = NIODeadline.now()

    init(engine: ShadowEngine) {
        self.engine = engine
        (self.id, self.queue) = engine.openConnection()
        self.state = ClientSessionState(
            policy: engine.sessionPolicy, classifier: CommandClassifier(table: engine.table), scripts: engine.scripts,
            seed: UInt64.random(in: 1...UInt64.max))
    }

    // MARK: client side

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        engine.metrics.connectionOpened()
        if engine.metrics.snapshot.connectionsOpen > engine.configuration.maxClients {
            engine.metrics.refusedConnection()
            run(.close(ClientSessionState.errorLine("ERR max number of clients reached"), mirror: [], reason: .bufferLimit))
            return
        }
        connectPrimary(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        run(state.clientClosed())
        report()
        engine.metrics.connectionClosed()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closed else { return }
        let framed = state.framedCount
        run(state.clientRead(unwrapInboundIn(data)))
        if state.framedCount > framed {
            batches.append((state.framedCount - framed, .now()))
            proxied += state.framedCount - framed
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // A client that does not read its replies stops us reading the primary, not the other way round.
        primary?.setReading(context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        closeBoth()
    }

    // MARK: running actions

    private func run(_ action: ClientSessionState.Action) {
        switch action {
        case .none:
            break
        case .forward(let bytes):
            send(bytes)
        case .deliver(let bytes, let mirror, let forward):
            if let bytes, let context { context.write(wrapOutboundOut(bytes), promise: nil) }
            submit(mirror)
            if let forward { send(forward) }
        case .forwardAndStopReading(let bytes):
            if let bytes { send(bytes) }
        case .close(let bytes, let mirror, let reason):
            submit(mirror)
            if case .protocolError = reason { engine.metrics.protocolError() }
            if let bytes, let context, !closed {
                context.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
            }
            closeBoth()
        }
        if state.stopsReadingClient { stopReadingForError() }
        if state.phase == .replication && !recordedReplication {
            recordedReplication = true
            engine.record(.replication("SYNC"), connection: id)
        }
    }

    private func send(_ bytes: ByteBuffer) {
        guard let primary, !closed else { return }
        primary.send(bytes)
    }

    private func submit(_ mirror: [Mirroring]) {
        guard !mirror.isEmpty else { return }
        for m in mirror {
            switch m {
            case .item(let request):
                var completion: (@Sendable () -> Void)? = nil
                if let token = request.token, let context {
                    let loop = context.eventLoop
                    let bound = NIOLoopBound(self, eventLoop: loop)
                    completion = { loop.execute { bound.value.mirrorSettled(token) } }
                }
                engine.enqueue(request, connection: id, queue: queue, completion: completion)
            default:
                engine.record(m, connection: id)
            }
        }
    }

    private func mirrorSettled(_ token: UInt64) {
        run(state.mirrorSettled(token))
        context?.flush()
    }

    private func stopReadingForError() {
        guard let context, !graceScheduled else { return }
        graceScheduled = true
        try? context.channel.syncOptions?.setOption(.autoRead, value: false)
        // Replies still owed may never come (a blocking command): close anyway after a grace period.
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: .seconds(2)) { bound.value.run(bound.value.state.gracePeriodEnded()) }
    }

    private func closeBoth() {
        guard !closed else { return }
        closed = true
        report()
        _ = state.clientClosed()
        context?.close(promise: nil)
        primary?.close()
        primary = nil
    }

    // MARK: primary side

    private func connectPrimary(context: ChannelHandlerContext) {
        let url = engine.configuration.primary
        if let pooled = engine.pooledPrimary {
            // The app logs in with the primary URL's password, as it did before the proxy.
            primary = PooledLink(primary: pooled, loop: context.eventLoop, session: self, password: url.password.map { Array($0.utf8) })
            primaryReady()
            return
        }
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let bootstrap = ClientBootstrap(group: context.eventLoop)
            .connectTimeout(.seconds(5))
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if case .tcp = url.address { try channel.syncOptions?.setOption(.socketOption(.tcp_nodelay), value: 1) }
                    try RedisTLS.addHandler(to: channel, for: url)
                    try channel.pipeline.syncOperations.addHandler(PrimaryHandler(session: bound.value))
                }
            }
        let connecting: EventLoopFuture<any Channel>
        switch url.address {
        case .tcp(let host, let port): connecting = bootstrap.connect(host: host, port: port)
        case .unix(let path): connecting = bootstrap.connect(unixDomainSocketPath: path)
        }
        connecting.whenComplete { result in
            let session = bound.value
            switch result {
            case .success(let channel):
                guard !session.closed else {
                    channel.close(promise: nil)
                    return
                }
                session.primary = ChannelLink(channel)
                session.primaryReady()
            case .failure:
                session.run(session.state.primaryUnreachable(url.endpoint))
            }
        }
    }

    private func primaryReady() {
        run(state.primaryConnected())
        guard let context, !closed else { return }
        reading = true
        try? context.channel.syncOptions?.setOption(.autoRead, value: primaryWritable && !state.stopsReadingClient)
        context.read()
    }

    /// Bytes from the primary.
    func primaryRead(_ buffer: ByteBuffer) {
        guard !closed else { return }
        let answered = state.answeredCount
        run(state.primaryRead(buffer, nowMs: Self.wallClockMs()))
        self.answered(state.answeredCount - answered)
    }

    /// Forwarded commands were answered: a batch whose last reply this is gives the primary's round trip.
    private func answered(_ n: Int) {
        var n = n
        while n > 0, !batches.isEmpty {
            let take = min(n, batches[batches.startIndex].remaining)
            batches[batches.startIndex].remaining -= take
            n -= take
            if batches[batches.startIndex].remaining == 0, let batch = batches.popFirst() {
                let now = NIODeadline.now()
                latencies.append(Double((now - batch.at).nanoseconds) / 1e9)
                if latencies.count >= 64 || now - lastReport > .seconds(1) {
                    lastReport = now
                    report()
                }
            }
        }
    }

    private func report() {
        guard proxied > 0 || !latencies.isEmpty else { return }
        engine.metrics.sessionReport(proxied: proxied, primaryLatencies: latencies)
        proxied = 0
        latencies.removeAll(keepingCapacity: true)
    }

    func primaryReadComplete() {
        context?.flush()
    }

    func primaryClosed() {
        guard !closed else { return }
        context?.flush()
        run(state.primaryClosed())
    }

    func primaryWritabilityChanged(_ writable: Bool) {
        primaryWritable = writable
        guard reading, !state.stopsReadingClient else { return }
        try? context?.channel.syncOptions?.setOption(.autoRead, value: writable)
    }

    static func wallClockMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}
