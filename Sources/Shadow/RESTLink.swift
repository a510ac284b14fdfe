import NIOCore
import RESP
import UpstashClient

/// The flip's link (`--primary-side upstash`): a session's commands answered by Upstash over
/// REST, as exact RESP2 replies (`Upstash-Response-Format: resp2`).
///
/// One request in flight per connection keeps the connection's commands in order on Upstash;
/// commands that arrive meanwhile go together in the next `/pipeline`, so a pipelining client gets
/// requests as large as its pipeline. Connection state Upstash does not keep is answered by
/// `RESTConnectionState`. Used only on the session's event loop.
final class RESTLink: PrimaryLink {
    private let client: UpstashClient
    private let loop: any EventLoop
    private weak var session: ClientSession?
    private var state: RESTConnectionState
    private var pending = CircularBuffer<[[UInt8]]>()
    /// A step taken from `pending` that must wait for the request in flight (it may not overtake it).
    private var carried: RESTStep?
    private var inFlight = false
    private var reading = true
    private var closed = false
    private var clientPaused = false

    /// Commands in one `/pipeline` request at most.
    static let maxBatch = 512
    /// Commands waiting before the client is no longer read, and when it is read again.
    static let highWater = 8192
    static let lowWater = 1024

    init(client: UpstashClient, loop: any EventLoop, session: ClientSession, password: [UInt8]?) {
        self.client = client
        self.loop = loop
        self.session = session
        self.state = RESTConnectionState(password: password)
    }

    func send(_ argvs: [[[UInt8]]], encoded: ByteBuffer) {
        pending.append(contentsOf: argvs)
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
            let step: RESTStep
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
        let client = self.client
        Task { [resp3] in finish(await request.run(on: client, resp3: resp3)) }
    }

    /// What one round trip to Upstash carries.
    private enum Request: Sendable {
        case pipeline([RESPCommand])
        case transaction([RESPCommand])

        func run(on client: UpstashClient, resp3: Bool) async -> [UInt8] {
            switch self {
            case .pipeline(let commands):
                let bytes = await RESTLink.replies(to: commands, from: client)
                return resp3 ? RESTLink.upgrade(bytes, commands) : bytes
            case .transaction(let commands):
                let bytes = await RESTLink.transaction(commands, on: client)
                return resp3 ? RESTLink.upgrade(bytes, commands, transaction: true) : bytes
            }
        }
    }

    /// Replies typed the way Redis types them for a RESP3 client; `commands` are what each reply answers.
    static func upgrade(_ bytes: [UInt8], _ commands: [RESPCommand], transaction: Bool = false) -> [UInt8] {
        var reader = ReplyReader()
        reader.feed(ByteBufferAllocator().buffer(bytes: bytes))
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 16)
        var next = 0
        while let reply = try? reader.next() {
            if transaction, case .array(let results?) = reply.value, results.count == commands.count {
                out += Array("*\(results.count)\r\n".utf8)
                for (r, c) in zip(results, commands) { RESP3Upgrade.encode(r, to: c.arguments, into: &out) }
            } else if !transaction, next < commands.count {
                RESP3Upgrade.encode(reply.value, to: commands[next].arguments, into: &out)
                next += 1
            } else {
                RESP3Upgrade.encode(reply.value, as: .plain, into: &out)
            }
        }
        return out
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

    /// One RESP2 reply per command, in order; an error reply for each when Upstash could not answer.
    static func replies(to commands: [RESPCommand], from client: UpstashClient) async -> [UInt8] {
        do {
            let bytes = try await client.rawRESP2(batch: commands)
            let count = countReplies(bytes)
            guard count == commands.count else {
                return errors(
                    commands.count, "Upstash sent \(count.map(String.init) ?? "unreadable") replies to \(commands.count) commands")
            }
            return bytes
        } catch let error where error.status == nil && (error.kind == .limit || error.kind == .unencodable) && commands.count > 1 {
            // Refused while planning, before anything was sent: one command's size must not fail its neighbours.
            var out: [UInt8] = []
            for command in commands { out += await replies(to: [command], from: client) }
            return out
        } catch {
            return errors(commands.count, error.detail)
        }
    }

    /// EXEC's reply from `/multi-exec` (its replies typed as JSON carries them: `OK` comes back as a bulk string).
    static func transaction(_ commands: [RESPCommand], on client: UpstashClient) async -> [UInt8] {
        do {
            return RESPSerializer.encode(try await client.transaction(commands))
        } catch {
            return errors(1, error.detail)
        }
    }

    private static func countReplies(_ bytes: [UInt8]) -> Int? {
        var reader = ReplyReader()
        reader.feed(ByteBufferAllocator().buffer(bytes: bytes))
        var n = 0
        do {
            while try reader.next() != nil { n += 1 }
        } catch {
            return nil
        }
        return n
    }

    private static func errors(_ count: Int, _ why: String) -> [UInt8] {
        let line = Array("ERR upshift: Upstash did not answer: \(why)".utf8.map { $0 == 13 || $0 == 10 ? 32 : $0 })
        var out: [UInt8] = []
        for _ in 0..<count { RESPSerializer.write(.error(line), into: &out) }
        return out
    }
}
