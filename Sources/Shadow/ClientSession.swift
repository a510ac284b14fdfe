import NIOCore
import NIOPosix
import RESP
import RedisClient
import UpstashProfile

/// One client connection and its own primary connection, so SELECT, MULTI/EXEC, WATCH, blocking
/// commands and pub/sub keep their per-connection meaning. Lives on one event loop: the client's
/// channel and the primary's channel share it, and neither ever waits on the mirror.
///
/// Client commands are parsed (hiredis, client caps) and forwarded in order, one write per read.
/// In shadow mode the primary's bytes go back to the client as they arrive, untouched, and are
/// parsed alongside only to pair each reply with its command; in dual-write mode a mirrored
/// command's reply is held (with every reply behind it) until the mirror has answered too.
final class ClientSession: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// What to do when the primary answers a command.
    enum Action {
        case none
        case mirror(RESPCommand, CommandTraits)
        /// EXEC: the transaction's commands, or nil when it is not mirrored; `lostKeys` are written keys
        /// the mirror will not see (a command Upstash refuses was inside).
        case exec([(RESPCommand, CommandTraits)]?, lostKeys: [[UInt8]])
        /// SUBSCRIBE: from its (successful) reply on, everything passes through.
        case passthrough
    }

    let engine: ShadowEngine
    let id: UInt64
    let queue: MirrorQueue
    let classifier: CommandClassifier
    private var commands = CommandSplitter()
    private var replies = ReplyReader()
    /// The client asked for RESP3 (HELLO 3).
    var resp3 = false
    var context: ChannelHandlerContext?
    var primary: (any PrimaryLink)?
    private var handshakeRemaining = 0
    private var ready = false
    var awaiting = CircularBuffer<Action>()
    /// Commands forwarded in one write and not yet all answered, with when they were written.
    private var sentBatches = CircularBuffer<(remaining: Int, at: NIODeadline)>()
    var held = CircularBuffer<HeldReply>()
    var nextToken: UInt64 = 0
    var subscribed = false
    var primaryPassthrough = false
    private var transaction: [(RESPCommand, CommandTraits)]?
    private var transactionMirrorable = true
    private var transactionLostKeys: [[UInt8]] = []
    private var mirrorEnabled = true
    private var pendingError: [UInt8]?
    var closed = false
    private var primaryWritable = true
    private var random = SplitMix64(seed: UInt64.random(in: 1...UInt64.max))

    /// A reply waiting in dual-write mode: its bytes, and whether the mirror has answered.
    struct HeldReply {
        var bytes: ByteBuffer
        var token: UInt64
        var ready: Bool
    }

    init(engine: ShadowEngine) {
        self.engine = engine
        (self.id, self.queue) = engine.openConnection()
        self.classifier = CommandClassifier(table: engine.table)
    }

    // MARK: client side

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        engine.metrics.connectionOpened()
        if engine.metrics.snapshot.connectionsOpen > engine.configuration.maxClients {
            engine.metrics.refusedConnection()
            failAndClose("ERR max number of clients reached")
            return
        }
        connectPrimary(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !closed {
            closed = true
            primary?.close()
        }
        primary = nil
        engine.metrics.connectionClosed()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closed, pendingError == nil, let primary else { return }
        let buffer = unwrapInboundIn(data)
        commands.feed(buffer)
        var out = context.channel.allocator.buffer(capacity: buffer.readableBytes + 16)
        var argvs: [[[UInt8]]] = []
        var count = 0
        while true {
            let argv: [[UInt8]]?
            do {
                argv = try commands.next()
            } catch {
                protocolError(error.reason)
                break
            }
            guard let argv else { break }
            count += 1
            handle(argv, into: &out)
            argvs.append(argv)
        }
        if count > 0 {
            engine.metrics.proxied(count)
            if !subscribed { sentBatches.append((count, .now())) }
            primary.send(argvs, encoded: out)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // A client that does not read its replies stops us reading the primary, not the other way round.
        primary?.setReading(context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// Routes one command: what to mirror, what to count, what to remember; then forwards it.
    private func handle(_ argv: [[UInt8]], into out: inout ByteBuffer) {
        if subscribed {
            write(argv, into: &out)
            return
        }
        let traits = classifier.traits(for: argv)
        let forward = argv
        var action = Action.none
        let refusal = traits.refusalDependsOnArguments ? UpstashCompatibility.refusal(for: argv) : traits.refusal
        switch traits.special {
        case .hello:
            // RESP3 replies are compared in RESP2 shapes; a few commands also nest differently (see ReplyComparer).
            if argv.count > 1 { resp3 = argv[1] == [UInt8(ascii: "3")] }
        case .subscribe:
            // Pass-through starts with the server's confirmation: commands pipelined behind a
            // SUBSCRIBE it refuses are routed and mirrored as usual.
            action = .passthrough
        case .multi:
            transaction = []
            transactionMirrorable = mirrorEnabled
            transactionLostKeys = []
        case .exec:
            if let t = transaction, transactionMirrorable, !t.isEmpty, shouldMirror(transaction: t) {
                action = .exec(t, lostKeys: [])
            } else {
                action = .exec(nil, lostKeys: transactionLostKeys)
            }
            transaction = nil
        case .discard:
            transaction = nil
        case .select:
            // Decided now, not at the reply, so commands pipelined behind it are routed right.
            if argv.count == 2, let db = Int(String(decoding: argv[1], as: UTF8.self)) {
                mirrorEnabled = db == engine.configuration.primary.database
            }
        case .eval:
            if argv.count > 1 { engine.scripts.remember(argv[1]) }
        case .scriptLoad:
            if argv.count > 2 { engine.scripts.remember(argv[2]) }
        case .evalsha, .scriptFlush, .none:
            if traits.name == "RESET" {
                transaction = nil
                mirrorEnabled = engine.configuration.primary.database == 0
            }
        }
        let control = traits.special == .multi || traits.special == .exec || traits.special == .discard
        if refusal != nil {
            engine.metrics.incompatible(traits.name)
            if transaction != nil && !control {
                transactionMirrorable = false
                if traits.mayWrite { transactionLostKeys += classifier.keys(in: argv) }
            }
        } else if !control && traits.special != .subscribe {
            if transaction != nil {
                transaction!.append((RESPCommand(arguments: forward), traits))
            } else if mirrorEnabled && shouldMirror(traits) {
                action = .mirror(RESPCommand(arguments: forward), traits)
            }
        }
        write(forward, into: &out)
        awaiting.append(action)
    }

    private func shouldMirror(_ traits: CommandTraits) -> Bool {
        guard traits.mirrorable else { return false }
        if traits.mayWrite { return engine.configuration.mirrorWrites }
        guard engine.configuration.mirrorReads else { return false }
        let rate = engine.configuration.readSample
        if rate >= 1 { return true }
        if rate <= 0 { return false }
        return Double(random.next() >> 11) / Double(1 << 53) < rate
    }

    private func shouldMirror(transaction: [(RESPCommand, CommandTraits)]) -> Bool {
        if transaction.contains(where: { $0.1.mayWrite }) { return engine.configuration.mirrorWrites }
        return shouldMirror(CommandTraits(mayWrite: false))
    }

    private func write(_ argv: [[UInt8]], into out: inout ByteBuffer) {
        out.writeString("*\(argv.count)\r\n")
        for a in argv {
            out.writeString("$\(a.count)\r\n")
            out.writeBytes(a)
            out.writeStaticString("\r\n")
        }
    }

    private func protocolError(_ why: String) {
        engine.metrics.protocolError()
        pendingError = Array("-ERR Protocol error: \(why)\r\n".utf8)
        try? context?.channel.syncOptions?.setOption(.autoRead, value: false)
        finishIfErrored()
        // Replies still owed may never come (a blocking command): close anyway after a grace period.
        if let context, !closed {
            let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: .seconds(2)) { bound.value.closeNow() }
        }
    }

    func finishIfErrored() {
        guard let error = pendingError, awaiting.isEmpty, held.isEmpty, let context, !closed else { return }
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: error)), promise: nil)
        closeNow()
    }

    /// Writes an error line to the client and closes both connections.
    func failAndClose(_ message: String) {
        guard let context, !closed else { return }
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: "-\(message)\r\n")), promise: nil)
        closeNow()
    }

    func closeNow() {
        guard !closed else { return }
        closed = true
        context?.close(promise: nil)
        primary?.close()
    }

    // MARK: primary side

    private func connectPrimary(context: ChannelHandlerContext) {
        let url = engine.configuration.primary
        if let pooled = engine.pooledPrimary {
            // The app logs in with the primary URL's password, as it did before the proxy.
            primary = PooledLink(primary: pooled, loop: context.eventLoop, session: self, password: url.password.map { Array($0.utf8) })
            startReading()
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
                session.startHandshake(channel)
            case .failure:
                session.failAndClose("ERR upshift: cannot reach the primary at \(url.endpoint)")
            }
        }
    }

    private func startHandshake(_ channel: any Channel) {
        let url = engine.configuration.primary
        var commands: [RESPCommand] = []
        if let password = url.password {
            commands.append(url.username.map { RESPCommand("AUTH", $0, password) } ?? RESPCommand("AUTH", password))
        }
        if url.database != 0 { commands.append(RESPCommand("SELECT", url.database)) }
        handshakeRemaining = commands.count
        if commands.isEmpty {
            startReading()
            return
        }
        var bytes: [UInt8] = []
        for c in commands { RESPSerializer.write(c, into: &bytes) }
        channel.writeAndFlush(channel.allocator.buffer(bytes: bytes), promise: nil)
    }

    private func startReading() {
        ready = true
        guard let context else { return }
        try? context.channel.syncOptions?.setOption(.autoRead, value: primaryWritable)
        context.read()
    }

    /// Bytes from the primary.
    func primaryRead(_ buffer: ByteBuffer) {
        guard let context, !closed else { return }
        if handshakeRemaining > 0 {
            replies.feed(buffer)
            while handshakeRemaining > 0, let reply = try? replies.next() {
                handshakeRemaining -= 1
                if reply.value.isError {
                    failAndClose("ERR upshift: the primary refused the proxy's login or database selection")
                    return
                }
            }
            if handshakeRemaining == 0 { startReading() }
            return
        }
        let dualWrite = engine.configuration.mode == .dualWrite
        if !dualWrite {
            context.write(wrapOutboundOut(buffer), promise: nil)
            if primaryPassthrough { return }
        }
        replies.feed(buffer)
        do {
            while let reply = try replies.next() {
                var action: Action?
                if reply.isPush {
                    // Out of band (RESP3 pub/sub, invalidations) except SUBSCRIBE's own confirmation.
                    if case .passthrough = awaiting.first { action = awaiting.popFirst() }
                } else {
                    action = awaiting.popFirst()
                    answered()
                }
                let token = action.flatMap { handleReply(reply.value, $0, dualWrite: dualWrite) }
                if dualWrite { emit(reply.raw, waitingFor: token) }
                if primaryPassthrough && !dualWrite { break }
            }
        } catch {
            failAndClose("ERR upshift: the primary sent bytes that are not RESP (\(error))")
            return
        }
        finishIfErrored()
    }

    /// One forwarded command was answered: a batch whose last reply this is gives the primary's round trip.
    private func answered() {
        guard !sentBatches.isEmpty else { return }
        sentBatches[sentBatches.startIndex].remaining -= 1
        if sentBatches[sentBatches.startIndex].remaining <= 0, let batch = sentBatches.popFirst() {
            engine.metrics.primaryAnswered(latency: Double((NIODeadline.now() - batch.at).nanoseconds) / 1e9)
        }
    }

    func primaryReadComplete() {
        context?.flush()
    }

    func primaryClosed() {
        guard !closed else { return }
        closed = true
        if let context {
            context.flush()
            context.close(promise: nil)
        }
    }

    func primaryWritabilityChanged(_ writable: Bool) {
        primaryWritable = writable
        guard ready, pendingError == nil else { return }
        try? context?.channel.syncOptions?.setOption(.autoRead, value: writable)
    }
}
