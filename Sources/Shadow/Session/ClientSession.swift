import Foundation
import NIOCore
import NIOPosix
import RESP
import RedisClient

/// One client connection and its way to the primary: a connection shared with the other clients of
/// its event loop (`SharedPrimary`) while it has done nothing connection-bound, then one of its own,
/// so SELECT, MULTI/EXEC, WATCH, blocking commands and pub/sub keep their per-connection meaning.
/// Lives on one event loop: the client's channel and the primary's share it, and neither ever
/// waits on the mirror.
///
/// The protocol logic is `ClientSessionState`; this handler only runs its actions. Every path that
/// closes the client closes (or leaves) its primary connection too, and the other way round.
final class ClientSession: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let engine: ShadowEngine
    let id: UInt64
    /// The mirror lane of the client's event loop its mirrored commands go through.
    let queue: MirrorQueue
    private var state: ClientSessionState
    private var context: ChannelHandlerContext?
    private var primary: (any PrimaryLink)?
    private var closed = false
    private var primaryWritable = true
    /// On a shared connection: the client reads its replies (otherwise it is not read either).
    private var clientIsWritable = true
    /// Held until the mirror side catches up.
    private var mirrorHeld = false
    private var reading = false
    /// Commands already handed to the primary link (framed by the state machine): what a shared
    /// connection is told each write owes.
    private var sent = 0
    private var graceScheduled = false
    private var recordedReplication = false
    /// Commands forwarded in one write and not yet all answered, with when they were written.
    private var batches = CircularBuffer<(remaining: Int, at: NIODeadline)>()
    /// Commands framed when the shared metrics were last told (one lock per many commands).
    private var reportedFramed = 0
    private var latencies: [Double] = []
    private var lastReport = NIODeadline.now()

    /// Made on `loop`, the client channel's.
    init(engine: ShadowEngine, loop: any EventLoop) {
        self.engine = engine
        self.id = engine.openConnection()
        self.queue = engine.lane(on: loop, connection: id)
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
        case .relink(let bytes, let mirror, let target):
            if let bytes, let context { context.write(wrapOutboundOut(bytes), promise: nil) }
            submit(mirror)
            relink(to: target)
        }
        if state.stopsReadingClient { stopReadingForError() }
        if state.phase == .replication && !recordedReplication {
            recordedReplication = true
            engine.record(.replication("SYNC"), connection: id)
        }
    }

    private func send(_ bytes: ByteBuffer) {
        let replies = state.framedCount - sent
        sent = state.framedCount
        guard let primary, !closed else { return }
        primary.send(bytes, replies: replies)
    }

    private func submit(_ mirror: [Mirroring]) {
        guard !mirror.isEmpty else { return }
        var hold = false
        defer { if hold { holdForMirror() } }
        for m in mirror {
            switch m {
            case .item(let request):
                var completion: (@Sendable () -> Void)? = nil
                if let token = request.token, let context {
                    let loop = context.eventLoop
                    let bound = NIOLoopBound(self, eventLoop: loop)
                    completion = { loop.execute { bound.value.mirrorSettled(token) } }
                }
                if engine.enqueue(request, connection: id, queue: queue, completion: completion) { hold = true }
            default:
                engine.record(m, connection: id)
            }
        }
    }

    /// The mirror side is behind: the client is not read until it catches up (`MirrorBacklog`);
    /// a mirror that answers nothing for a while is stuck, and nobody waits for it.
    private func holdForMirror() {
        guard !mirrorHeld, !closed, let context else { return }
        mirrorHeld = true
        updateReading()
        let loop = context.eventLoop
        let bound = NIOLoopBound(self, eventLoop: loop)
        guard engine.waitForMirror({ loop.execute { bound.value.mirrorCaughtUp() } }) else {
            mirrorCaughtUp()
            return
        }
        loop.scheduleTask(in: ShadowEngine.mirrorStallAfter) { bound.value.checkMirrorStall() }
    }

    private func checkMirrorStall() {
        guard mirrorHeld, !closed, let context else { return }
        engine.checkMirrorStall()
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        // Still held: the mirror answered meanwhile and is only slow.
        if mirrorHeld { context.eventLoop.scheduleTask(in: ShadowEngine.mirrorStallAfter) { bound.value.checkMirrorStall() } }
    }

    private func mirrorCaughtUp() {
        guard mirrorHeld else { return }
        mirrorHeld = false
        updateReading()
    }

    private func mirrorSettled(_ token: UInt64) {
        run(state.mirrorSettled(token))
        context?.flush()
    }

    private func stopReadingForError() {
        guard let context, !graceScheduled else { return }
        graceScheduled = true
        updateReading()
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
        relink(to: state.link)
    }

    /// Leaves the current primary link (nothing is owed on it) for `target`.
    private func relink(to target: ClientSessionState.Link) {
        guard let context, !closed else { return }
        primary?.close()
        primary = nil
        primaryWritable = true
        clientIsWritable = true
        guard case .shared(let login) = target else {
            connectOwn(context: context)
            return
        }
        guard let connection = engine.sharedPrimaries(on: context.eventLoop).connection(login: login) else {
            run(state.sharedUnavailable())
            return
        }
        primary = SharedSeat(connection, session: self)
        switch connection.attach(self) {
        case .ready: primaryReady()
        case .waiting: break
        case .unavailable:
            primary = nil
            run(state.sharedUnavailable())
        }
    }

    /// The shared connection this client waited for is set up.
    func sharedReady() {
        guard !closed else { return }
        primaryReady()
    }

    /// The shared connection this client waited for could not be set up.
    func sharedFailed() {
        guard !closed else { return }
        primary = nil
        run(state.sharedUnavailable())
    }

    private func connectOwn(context: ChannelHandlerContext) {
        let url = engine.configuration.primary
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        PrimaryConnector.connect(url, on: context.eventLoop) { PrimaryHandler(session: bound.value) }.whenComplete { result in
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
        updateReading()
        context.read()
    }

    /// Reads the client while its primary link takes commands, it reads its replies (on a shared
    /// connection), the mirror side is not too far behind, and no protocol error waits.
    private func updateReading() {
        guard let context, !closed else { return }
        let on = reading && primaryWritable && clientIsWritable && !mirrorHeld && !state.stopsReadingClient
        try? context.channel.syncOptions?.setOption(.autoRead, value: on)
    }

    /// Bytes from the primary.
    func primaryRead(_ buffer: ByteBuffer) {
        guard !closed else { return }
        let answered = state.answeredCount
        run(state.primaryRead(buffer, nowMs: Self.wallClockMs()))
        self.answered(state.answeredCount - answered)
    }

    /// Bytes from a shared connection, of which at most `limit` replies are this client's; returns
    /// how many bytes and replies were, and whether the connection's stream is broken.
    func sharedRead(_ buffer: ByteBuffer, limit: Int) -> (consumed: Int, replies: Int, broken: Bool) {
        let answered = state.answeredCount
        let read = state.sharedRead(buffer, nowMs: Self.wallClockMs(), limit: limit)
        if !closed {
            run(read.action)
            self.answered(state.answeredCount - answered)
        }
        return (read.consumed, read.replies, state.primaryBroken)
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
        // Counted from the state machine: commands are framed outside client reads too (after a move to
        // another primary connection, or once replies make room).
        let proxied = state.framedCount - reportedFramed
        guard proxied > 0 || !latencies.isEmpty else { return }
        reportedFramed = state.framedCount
        engine.metrics.sessionReport(proxied: proxied, primaryLatencies: latencies)
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
        updateReading()
    }

    /// On a shared connection: whether the client reads its replies.
    func clientWritable(_ writable: Bool) {
        clientIsWritable = writable
        updateReading()
    }

    static func wallClockMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}
