import NIOCore
import RESP

/// One connection to the primary shared by the clients of one event loop that logged in the same
/// way (or not at all) and have done nothing connection-bound (`ClientSessionState+Sharing`): what
/// they send in one turn of the loop goes to the primary in one write, as twemproxy does.
///
/// Each reply goes to the client whose command it answers: the connection keeps the order in which
/// clients wrote (`SharedConnectionState`) and hands each its bytes, which it reads with its own
/// state machine. When the connection goes, so do its clients, as theirs would have with Redis.
/// The logic is `SharedConnectionState`; this handler only runs it. Used only on its event loop.
final class SharedPrimary: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The AUTH arguments it logged in with; nil: none.
    let login: [[UInt8]]?
    private let loop: any EventLoop
    private weak var pool: SharedPrimaries?
    private var state = SharedConnectionState<ClientSession>()
    private var channel: (any Channel)?
    private var flushScheduled = false
    /// Clients given bytes in this read, flushed once it is over.
    private var touched: [ClientSession] = []
    private var idleClose: Scheduled<Void>?
    private let linger: TimeAmount

    init(login: [[UInt8]]?, loop: any EventLoop, pool: SharedPrimaries, linger: TimeAmount) {
        self.login = login
        self.loop = loop
        self.pool = pool
        self.linger = linger
    }

    /// Connects and sets the connection up; clients attached meanwhile wait for it.
    func start(engine: ShadowEngine) {
        let setup = SharedConnectionState<ClientSession>.setupCommands(policy: engine.sessionPolicy, login: login)
        let bound = NIOLoopBound(self, eventLoop: loop)
        PrimaryConnector.connect(engine.configuration.primary, on: loop) { bound.value }.whenComplete { result in
            let me = bound.value
            switch result {
            case .success(let channel):
                me.connected(channel, setup: setup)
            case .failure:
                me.gone()
            }
        }
    }

    // MARK: riders

    /// A client joins: it may send at once, or hears `sharedReady()` or `sharedFailed()` later, or
    /// it cannot (the connection is gone).
    func attach(_ session: ClientSession) -> SharedConnectionState<ClientSession>.Attached {
        idleClose?.cancel()
        idleClose = nil
        return state.attach(session)
    }

    /// A client leaves: it moved to another connection, or went away (its replies in flight are dropped).
    func detach(_ session: ClientSession) {
        guard state.detach(session), state.phase != .closed else { return }
        // Nobody rides it: closed after a while, unless a client comes (clients that connect per request).
        idleClose?.cancel()
        let bound = NIOLoopBound(self, eventLoop: loop)
        idleClose = loop.scheduleTask(in: linger) { bound.value.closeIfIdle() }
    }

    /// Writes a client's commands, which owe `replies` replies; all written in one turn of the
    /// event loop go to the primary in one flush.
    func send(_ bytes: ByteBuffer, replies: Int, from session: ClientSession) {
        guard state.phase == .ready, let channel else { return }
        state.sent(session, replies: replies)
        channel.write(bytes, promise: nil)
        guard !flushScheduled else { return }
        flushScheduled = true
        let bound = NIOLoopBound(self, eventLoop: loop)
        loop.execute { bound.value.flush() }
    }

    private func flush() {
        flushScheduled = false
        channel?.flush()
    }

    /// Closes it now (the proxy shuts down).
    func close() {
        pool?.remove(self)
        channel?.close(promise: nil)
    }

    private func closeIfIdle() {
        idleClose = nil
        guard state.riders.isEmpty else { return }
        close()
    }

    // MARK: the connection

    private func connected(_ channel: any Channel, setup: [[[UInt8]]]) {
        self.channel = channel
        guard state.phase == .connecting else {
            channel.close(promise: nil)
            return
        }
        if !setup.isEmpty {
            var bytes = ByteBuffer()
            for command in setup { ClientSessionState.encode(command, into: &bytes) }
            channel.writeAndFlush(bytes, promise: nil)
        }
        if state.connected(setup: setup.count) == .ready { ready() }
    }

    private func ready() {
        for session in state.riders.values { session.sharedReady() }
        if state.riders.isEmpty {
            let bound = NIOLoopBound(self, eventLoop: loop)
            idleClose = loop.scheduleTask(in: linger) { bound.value.closeIfIdle() }
        }
    }

    /// Closed or never opened: clients waiting for it try a connection of their own; those riding it
    /// lose theirs, as they would have with a connection each.
    private func gone() {
        pool?.remove(self)
        idleClose?.cancel()
        let (riders, wasReady) = state.closed()
        for session in riders {
            if wasReady { session.primaryClosed() } else { session.sharedFailed() }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var chunk = unwrapInboundIn(data)
        if state.phase == .settingUp {
            switch state.setupRead(&chunk) {
            case .pending: return
            case .refused:
                gone()
                context.close(promise: nil)
                return
            case .ready: ready()
            }
        }
        while chunk.readableBytes > 0 {
            guard let (session, owed) = state.next else {
                // A reply nobody asked for: the server's last words before it closes. Nobody's to keep.
                context.close(promise: nil)
                return
            }
            let read = session.sharedRead(chunk, limit: owed)
            if read.broken || read.consumed == 0 {
                context.close(promise: nil)
                return
            }
            state.answered(read.replies)
            chunk.moveReaderIndex(forwardBy: read.consumed)
            touched.append(session)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        for session in touched { session.primaryReadComplete() }
        touched.removeAll(keepingCapacity: true)
    }

    func channelInactive(context: ChannelHandlerContext) {
        channel = nil
        gone()
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        let writable = context.channel.isWritable
        for session in state.riders.values { session.primaryWritabilityChanged(writable) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// A client's seat on a shared connection: what `ClientSession` sends through, as through a
/// connection of its own.
final class SharedSeat: PrimaryLink {
    let connection: SharedPrimary
    private unowned let session: ClientSession

    init(_ connection: SharedPrimary, session: ClientSession) {
        self.connection = connection
        self.session = session
    }

    func send(_ bytes: ByteBuffer, replies: Int) {
        connection.send(bytes, replies: replies, from: session)
    }

    /// The shared connection keeps being read for everyone: a client not reading its replies is no
    /// longer read itself, so what it is owed stays bounded by what it has in flight.
    func setReading(_ on: Bool) {
        session.clientWritable(on)
    }

    func close() {
        connection.detach(session)
    }
}
