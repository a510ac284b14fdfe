import NIOCore
import RESP
import UpstashClient

/// A session's link to a pooled primary (`PooledPrimary`): Upstash over REST after the flip, or a
/// Redis Cluster through its cluster-aware client. Replies come back as RESP bytes, one per command.
///
/// One request in flight per connection keeps the connection's commands in order; commands that
/// arrive meanwhile go together in the next request, so a pipelining client gets requests as large
/// as its pipeline. Connection state the primary does not keep is answered by
/// `PooledConnectionState`. Used only on the session's event loop.
final class PooledLink: PrimaryLink {
    private let primary: PooledPrimary
    private let loop: any EventLoop
    private weak var session: ClientSession?
    private var state: PooledConnectionState
    private var pending = CircularBuffer<[[UInt8]]>()
    /// A step taken from `pending` that must wait for the request in flight (it may not overtake it).
    private var carried: PooledStep?
    private var inFlight = false
    private var reading = true
    private var closed = false
    private var clientPaused = false

    /// Commands in one request (one `/pipeline` on Upstash) at most.
    static let maxBatch = 512
    /// Commands waiting before the client is no longer read, and when it is read again.
    static let highWater = 8192
    static let lowWater = 1024

    init(primary: PooledPrimary, loop: any EventLoop, session: ClientSession, password: [UInt8]?) {
        self.primary = primary
        self.loop = loop
        self.session = session
        self.state = PooledConnectionState(password: password, refusal: primary.refusal, streamsPubSub: primary.streamsPubSub)
    }

    /// The subscription streams open, each with the number it was opened under (a late event of a
    /// stream closed and opened again must not count for the new one).
    private var streams: [PooledSubscriptions.Name: (id: Int, task: Task<Void, Never>)] = [:]
    private var nextStreamID = 0
    /// The stream whose confirmation the client waits for, and the names of the same command after it.
    private var confirming: (name: PooledSubscriptions.Name, rest: ArraySlice<PooledSubscriptions.Name>)?

    func send(_ bytes: ByteBuffer, replies: Int) {
        // The session forwards whole commands it framed: no limit of the client's applies again here.
        var parser = RequestParser(limits: .init(), authenticated: true)
        var b = bytes
        while b.readableBytes > 0 {
            let frame = try? b.withUnsafeReadableBytes { raw throws(ProtocolFailure) in try parser.next(raw) }
            guard let frame else { break }
            switch frame {
            case .multibulk(let length, let count, _):
                pending.append(
                    b.withUnsafeReadableBytes { RequestParser.arguments(UnsafeRawBufferPointer(rebasing: $0[0..<length]), count: count) })
                b.moveReaderIndex(forwardBy: length)
            case .inline(let length, let arguments):
                pending.append(arguments)
                b.moveReaderIndex(forwardBy: length)
            case .ignored(let length):
                b.moveReaderIndex(forwardBy: length)
            }
        }
        if pending.count > Self.highWater, !clientPaused {
            clientPaused = true
            session?.primaryWritabilityChanged(false)
        }
        pump()
    }

    func setReading(_ on: Bool) {
        reading = on
        if on { pump() }
    }

    func close() {
        closed = true
        pending.removeAll()
        carried = nil
        for s in streams.values { s.task.cancel() }
        streams = [:]
        confirming = nil
    }

    /// Answers what the proxy answers itself and sends the next request, keeping replies in order.
    private func pump() {
        guard !inFlight, reading, !closed else { return }
        var out: [UInt8] = []
        var batch: [RESPCommand] = []
        var transaction: [RESPCommand]?
        var closeAfter = false
        // A HELLO taken from `pending` changes the protocol only for what comes after it.
        var resp3 = state.resp3
        steps: while true {
            let step: PooledStep
            if let c = carried {
                step = c
                carried = nil
            } else if let argv = pending.popFirst() {
                step = state.step(argv)
            } else {
                break
            }
            if case .remote(let command) = step {
                if batch.isEmpty { resp3 = state.resp3 }
                batch.append(command)
                if batch.count >= Self.maxBatch { break }
                continue
            }
            guard batch.isEmpty else {
                carried = step
                break
            }
            switch step {
            case .reply(let bytes):
                out += bytes
            case .replyAndClose(let bytes):
                out += bytes
                closeAfter = true
                break steps
            case .transaction(let commands):
                transaction = commands
                resp3 = state.resp3
                break steps
            case .subscribe(let names):
                deliver(out)
                inFlight = true
                subscribe(names[...])
                return
            case .unsubscribe(let closing, let reply):
                for n in closing { streams.removeValue(forKey: n)?.task.cancel() }
                out += reply
            case .remote:
                break
            }
        }
        deliver(out)
        if closeAfter {
            closed = true
            session?.primaryClosed()
            return
        }
        if clientPaused, pending.count < Self.lowWater {
            clientPaused = false
            session?.primaryWritabilityChanged(true)
        }
        guard !closed, !batch.isEmpty || transaction != nil else { return }
        inFlight = true
        let bound = NIOLoopBound(self, eventLoop: loop)
        let loop = self.loop
        let finish: @Sendable ([UInt8]) -> Void = { bytes in loop.execute { bound.value.answered(bytes) } }
        let request: Request = transaction.map { .transaction($0) } ?? .pipeline(batch)
        let primary = self.primary
        Task { [resp3] in finish(await request.run(on: primary, resp3: resp3)) }
    }

    /// What one round trip to the primary carries.
    private enum Request: Sendable {
        case pipeline([RESPCommand])
        case transaction([RESPCommand])

        func run(on primary: PooledPrimary, resp3: Bool) async -> [UInt8] {
            switch self {
            case .pipeline(let commands):
                let bytes = await primary.replies(to: commands)
                return resp3 ? PooledLink.upgrade(bytes, commands) : bytes
            case .transaction(let commands):
                let bytes = await primary.transaction(commands)
                return resp3 ? PooledLink.upgrade(bytes, commands, transaction: true) : bytes
            }
        }
    }

    /// Replies typed the way Redis types them for a RESP3 client; `commands` are what each reply answers.
    static func upgrade(_ bytes: [UInt8], _ commands: [RESPCommand], transaction: Bool = false) -> [UInt8] {
        let reader = RESPParser()
        reader.feed(bytes)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 16)
        var next = 0
        while let value = try? reader.next() {
            if transaction, case .array(let results?) = value, results.count == commands.count {
                out += Array("*\(results.count)\r\n".utf8)
                for (r, c) in zip(results, commands) { RESP3Upgrade.encode(r, to: c.arguments, into: &out) }
            } else if !transaction, next < commands.count {
                RESP3Upgrade.encode(value, to: commands[next].arguments, into: &out)
                next += 1
            } else {
                RESP3Upgrade.encode(value, as: .plain, into: &out)
            }
        }
        return out
    }

    /// Confirms `names` in order: a held one at once, a new one when its stream says it is
    /// subscribed (or fails); then the link goes on with what the client sent after.
    private func subscribe(_ names: ArraySlice<PooledSubscriptions.Name>) {
        var rest = names
        var out: [UInt8] = []
        while let n = rest.popFirst(), !closed {
            if state.isSubscribed(n) {
                out += state.confirmed(n)
                continue
            }
            deliver(out)
            confirming = (n, rest)
            open(n)
            return
        }
        deliver(out)
        inFlight = false
        pump()
    }

    private func open(_ n: PooledSubscriptions.Name) {
        guard let events = primary.events(n) else {
            streamEnded(n, id: nil, "this primary has no subscription streams")
            return
        }
        nextStreamID += 1
        let id = nextStreamID
        let bound = NIOLoopBound(self, eventLoop: loop)
        let loop = self.loop
        let task = Task {
            do {
                for try await event in events { loop.execute { bound.value.streamEvent(n, id: id, event) } }
                loop.execute { bound.value.streamEnded(n, id: id, "the stream ended") }
            } catch {
                let text = "\(error)"
                loop.execute { bound.value.streamEnded(n, id: id, text) }
            }
        }
        streams[n] = (id, task)
    }

    private func streamEvent(_ n: PooledSubscriptions.Name, id: Int, _ event: PubSubEvent) {
        guard !closed, streams[n]?.id == id else { return }
        switch event {
        case .subscribed:
            guard let c = confirming, c.name == n else { return }
            confirming = nil
            deliver(state.confirmed(n))
            subscribe(c.rest)
        case .message(let channel, let payload):
            guard state.isSubscribed(n) else { return }
            deliver(PooledSubscriptions.message(n, channel: channel, payload: payload, resp3: state.resp3))
        }
    }

    /// A stream ended: before its confirmation the client gets an error for that name; after it, the
    /// connection is closed, as a Redis going away closes it, so the client reconnects and subscribes again.
    private func streamEnded(_ n: PooledSubscriptions.Name, id: Int?, _ why: String) {
        guard !closed else { return }
        if let id {
            guard streams[n]?.id == id else { return }
            streams[n] = nil
        }
        if let c = confirming, c.name == n {
            confirming = nil
            let verb = n.kind == .subscribe ? "SUBSCRIBE" : "PSUBSCRIBE"
            deliver(PooledPrimary.errors(1, "\(verb) failed: \(why)"))
            subscribe(c.rest)
        } else if state.isSubscribed(n) {
            close()
            session?.primaryClosed()
        }
    }

    private func answered(_ bytes: [UInt8]) {
        inFlight = false
        guard !closed else { return }
        deliver(bytes)
        pump()
    }

    private func deliver(_ bytes: [UInt8]) {
        guard !bytes.isEmpty, !closed, let session else { return }
        session.primaryRead(ByteBufferAllocator().buffer(bytes: bytes))
        session.primaryReadComplete()
    }
}
