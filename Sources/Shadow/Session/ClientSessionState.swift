import NIOCore
import RESP
import RedisClient

/// One client connection's protocol logic, as a pure state machine: bytes and events in, one
/// `Action` out, no I/O, so every transition is tested without sockets. `ClientSession` (the NIO
/// handler) only runs the actions.
///
/// The client's bytes are framed as redis-server frames them (`RequestParser`) and forwarded as
/// they came; the primary's bytes go back untouched as they arrive and are only scanned for reply
/// boundaries (`RESPFrameScanner`), so replies of any size or depth pass through. A reply's value is
/// read only when it is mirrored. Commands whose reply changes how what follows is read (AUTH,
/// SELECT, HELLO, SUBSCRIBE, SYNC…) are barriers: nothing behind them is framed before their reply.
struct ClientSessionState {
    /// How the proxy runs; the same for every connection.
    struct Policy {
        var dualWrite = false
        var mirrorWrites = true
        var mirrorReads = true
        var readSample: Double = 0.1
        /// The database the primary URL names: mirrored unprefixed.
        var homeDatabase = 0
        var databases = DatabaseMapping()
        var limits = RequestParser.Limits()
        /// The primary refuses commands before AUTH: clients start with the small limits.
        var requiresAuth = false
        /// Bytes a client may have waiting to be framed before it is disconnected.
        var maxBuffered = 1 << 30
        /// Replies larger than this are not compared (a mirrored read of them is skipped).
        var largestComparedReply = 8 << 20
        /// The primary is a pooled link (Upstash after the flip, a cluster): it answers SYNC itself.
        var pooled = false
        /// The proxy logs each primary connection in itself with this AUTH (the flip to a RESP
        /// target, whose token the app does not know); nil: clients log in themselves.
        var login: [[UInt8]]?
        /// Clients start on a primary connection shared with the other clients of their event loop
        /// (`SharedPrimary`) and move to one of their own at their first connection-bound command.
        var sharing = false
    }

    /// Which primary connection carries the client's commands.
    enum Link: Equatable {
        /// One shared with the other clients of the event loop that logged in with the same AUTH
        /// arguments (nil: with none), in the database the primary URL names.
        case shared(login: [[UInt8]]?)
        /// One of its own, for good.
        case own
    }

    /// What the handler does next.
    enum Action {
        case none
        /// Write these bytes to the primary.
        case forward(ByteBuffer)
        /// Write the bytes (if any) to the client, hand the mirroring to the engine, then write
        /// `forward` (commands a barrier held back) to the primary.
        case deliver(ByteBuffer?, mirror: [Mirroring], forward: ByteBuffer?)
        /// Forward what came before a protocol error, then stop reading the client: the error goes
        /// out once the replies the client is owed have.
        case forwardAndStopReading(ByteBuffer?)
        /// Write the bytes (if any) to the client, hand the mirroring over, and close the client
        /// and its primary connection.
        case close(ByteBuffer?, mirror: [Mirroring], reason: CloseReason)
        /// Write the bytes (if any) to the client, hand the mirroring over, then leave the primary
        /// connection (nothing is owed on it) for `to`; once that is ready, `primaryConnected()`.
        case relink(ByteBuffer?, mirror: [Mirroring], to: Link)
    }

    /// Why a connection was closed by the proxy.
    enum CloseReason: Equatable {
        case protocolError(String)
        case bufferLimit
        case primaryClosed
        case clientClosed
        case primaryUnreachable
        case primaryGarbage
        case primaryRefusedSetup
        case stalled
        /// QUIT on a shared connection, answered by the proxy.
        case quit
    }

    /// A change of primary connection waiting for the replies owed on the current one.
    enum Move: Equatable {
        case relink(Link)
        case quit
    }

    enum Phase: Equatable {
        case connecting
        case open
        /// SUBSCRIBE confirmed: everything passes through.
        case subscribed
        /// SYNC/PSYNC: a replication stream passes through, unread.
        case replication
        case closed
    }

    let policy: Policy
    let classifier: CommandClassifier
    let scripts: ScriptRegistry
    var phase = Phase.connecting
    var parser: RequestParser
    var input = ByteBuffer()
    var awaiting = CircularBuffer<Pending>()
    var scanner = RESPFrameScanner(limits: .relay)
    /// The head reply's bytes from earlier chunks, when its value is needed.
    var capture: ByteBuffer?
    /// The head reply's value is needed, and where it began in the current chunk.
    var wantsBytes = false
    var captureStart: Int?
    var captureOverflow = false
    var failure: ProtocolFailure?
    /// A barrier command is awaiting its reply: framing waits.
    var barrier = false
    var database: Int
    var databaseSelected: Bool
    var transaction: Transaction?
    var resp3 = false
    var random: SplitMix64
    var held = CircularBuffer<Held>()
    var nextToken: UInt64 = 0
    /// The proxy's own SELECT, to go out before anything else the client sends.
    var pendingSelect: ByteBuffer?
    /// When the primary's latest bytes arrived (Unix milliseconds).
    var nowMs: Int64 = 0
    /// Client commands framed, and replies paired with them, since the start: for latency counts.
    var framedCount = 0
    var answeredCount = 0
    /// The primary connection the client's commands go to.
    var link: Link
    /// The AUTH arguments that last held on a shared connection: its login, replayed on a
    /// connection of its own if it moves to one. Nil: it never logged in on the shared path.
    var login: [[UInt8]]?
    /// A move the framing stopped at, made once nothing is owed on the current connection.
    var move: Move?
    /// Replies a shared connection still owes a client that went away: read and dropped.
    var orphans = 0
    /// The primary's bytes stopped being RESP: a shared connection carrying them is broken for all.
    var primaryBroken = false

    init(policy: Policy, classifier: CommandClassifier, scripts: ScriptRegistry, seed: UInt64) {
        self.policy = policy
        self.classifier = classifier
        self.scripts = scripts
        self.parser = RequestParser(limits: policy.limits, authenticated: !policy.requiresAuth)
        self.database = policy.homeDatabase
        self.link = policy.sharing ? .shared(login: nil) : .own
        // A shared connection selects the URL's database itself.
        self.databaseSelected = policy.homeDatabase == 0 || policy.pooled || policy.sharing
        self.random = SplitMix64(seed: seed)
    }

    /// True while the client's commands go over a shared connection.
    var isShared: Bool {
        if case .shared = link { return true }
        return false
    }

    /// The client logged in, or needs not.
    var authenticated: Bool { parser.authenticated }

    // MARK: events

    /// The primary connection is up: log in and select the URL's database on a connection of its
    /// own (a shared one has done both), then frame what the client sent meanwhile.
    mutating func primaryConnected() -> Action {
        guard phase == .connecting else { return .none }
        phase = .open
        var out: ByteBuffer?
        if case .own = link {
            // The proxy's login (the flip), or the one the client gave on the shared path.
            if let login = policy.login ?? self.login.map({ [Array("AUTH".utf8)] + $0 }) {
                var b = ByteBuffer()
                Self.encode(login, into: &b)
                awaiting.append(.swallow)
                barrier = true
                out = b
            }
            if !databaseSelected && authenticated {
                var select = selectHome()
                if out == nil { out = select } else { out!.writeBuffer(&select) }
            }
        }
        if !barrier && input.readableBytes > 0, var more = frame() {
            if out == nil { out = more } else { out!.writeBuffer(&more) }
        }
        return afterFraming(out)
    }

    /// The shared connection the client was to use could not be had (unreachable, its login or
    /// database refused, too many logins): a connection of its own, where the primary answers for real.
    mutating func sharedUnavailable() -> Action {
        guard phase == .connecting, isShared else { return .none }
        return relink(to: .own, nil, mirror: [])
    }

    /// The primary could not be reached.
    mutating func primaryUnreachable(_ endpoint: String) -> Action {
        close(Self.errorLine("ERR upshift: cannot reach the primary at \(endpoint)"), reason: .primaryUnreachable)
    }

    /// The primary closed the connection (after QUIT, or it went away): so does the client's.
    mutating func primaryClosed() -> Action {
        guard phase != .closed else { return .none }
        return close(nil, reason: .primaryClosed)
    }

    /// The client went away.
    mutating func clientClosed() -> Action {
        guard phase != .closed else { return .none }
        return close(nil, reason: .clientClosed)
    }

    /// A protocol error waited this long for replies that did not come (a blocked command).
    mutating func gracePeriodEnded() -> Action {
        guard phase != .closed, let failure else { return .none }
        return close(ByteBuffer(bytes: failure.reply), mirror: [.protocolError(failure.reason)], reason: .protocolError(failure.reason))
    }

    /// Bytes from the client.
    mutating func clientRead(_ bytes: ByteBuffer) -> Action {
        switch phase {
        case .closed: return .none
        case .subscribed, .replication: return .forward(bytes)
        case .connecting, .open: break
        }
        guard failure == nil else { return .none }
        if input.readableBytes == 0 {
            input = bytes
        } else {
            var b = bytes
            input.writeBuffer(&b)
        }
        if input.readableBytes > policy.maxBuffered {
            input = ByteBuffer()
            return close(nil, reason: .bufferLimit)
        }
        guard phase == .open else { return .none }
        let forward = frame()
        return afterFraming(forward)
    }

    mutating func afterFraming(_ forward: ByteBuffer?) -> Action {
        if let failure {
            if awaiting.isEmpty && held.isEmpty && forward == nil {
                return close(
                    ByteBuffer(bytes: failure.reply), mirror: [.protocolError(failure.reason)], reason: .protocolError(failure.reason))
            }
            return .forwardAndStopReading(forward)
        }
        if let forward { return .forward(forward) }
        if let moved = takeMove(nil, mirror: []) { return moved }
        return .none
    }

    /// The mirror settled the command behind `token` (dual-write): release what is ready, in order.
    mutating func mirrorSettled(_ token: UInt64) -> Action {
        guard phase != .closed else { return .none }
        if let i = held.firstIndex(where: { $0.token == token && !$0.ready }) { held[i].ready = true }
        let out = releaseHeld()
        return finishDelivery(out, mirror: [], forward: nil)
    }

    // MARK: helpers shared by the two directions

    mutating func close(_ bytes: ByteBuffer?, mirror: [Mirroring] = [], reason: CloseReason) -> Action {
        // What a shared connection still owes it is read and dropped; its own connection just closes.
        if isShared && phase == .open && reason != .primaryClosed && reason != .primaryGarbage { orphans = awaiting.count }
        phase = .closed
        input = ByteBuffer()
        capture = nil
        held.removeAll()
        awaiting.removeAll()
        return .close(bytes, mirror: mirror, reason: reason)
    }

    /// Once the client has all it is owed, a pending protocol error goes out and the connection
    /// closes, or a move waiting for the current connection is made.
    mutating func finishDelivery(_ out: ByteBuffer?, mirror: [Mirroring], forward: ByteBuffer?) -> Action {
        if let failure, awaiting.isEmpty, held.isEmpty {
            var bytes = out ?? ByteBuffer()
            bytes.writeBytes(failure.reply)
            return close(bytes, mirror: mirror + [.protocolError(failure.reason)], reason: .protocolError(failure.reason))
        }
        if forward == nil, let moved = takeMove(out, mirror: mirror) { return moved }
        if out == nil && mirror.isEmpty && forward == nil { return .none }
        return .deliver(out, mirror: mirror, forward: forward)
    }

    mutating func releaseHeld() -> ByteBuffer? {
        var out: ByteBuffer?
        while let first = held.first, first.ready {
            held.removeFirst()
            var b = first.bytes
            if out == nil { out = b } else { out!.writeBuffer(&b) }
        }
        return out
    }

    /// The proxy's own `SELECT` of the URL's database; its reply is not the client's.
    mutating func selectHome() -> ByteBuffer {
        databaseSelected = true
        database = policy.homeDatabase
        awaiting.append(.swallow)
        barrier = true
        var b = ByteBuffer()
        ClientSessionState.encode([Array("SELECT".utf8), Array(String(policy.homeDatabase).utf8)], into: &b)
        return b
    }

    /// RESP bytes of a command.
    static func encode(_ argv: [[UInt8]], into out: inout ByteBuffer) {
        out.writeInteger(UInt8(ascii: "*"))
        out.writeString(String(argv.count))
        out.writeStaticString("\r\n")
        for a in argv {
            out.writeInteger(UInt8(ascii: "$"))
            out.writeString(String(a.count))
            out.writeStaticString("\r\n")
            out.writeBytes(a)
            out.writeStaticString("\r\n")
        }
    }

    static func errorLine(_ text: String) -> ByteBuffer {
        ByteBuffer(string: "-" + String(text.map { $0 == "\r" || $0 == "\n" ? " " : $0 }) + "\r\n")
    }
}

extension ClientSessionState {
    /// What one forwarded command's reply is for.
    enum Pending {
        /// Goes to the client; nothing else to do.
        case pass
        /// The proxy's own command: its reply is not delivered.
        case swallow
        /// Mirrored once answered (its effect, see `MirrorEffect`).
        case mirror(PendingCommand)
        /// A write the mirror will not see (a database without a prefix, a command it cannot run): recorded.
        case unmirrored(PendingCommand, why: String)
        /// Counted as a command Upstash does not serve over REST.
        case incompatible(String)
        case auth
        case hello(resp3: Bool?)
        case select(Int)
        case reset
        case exec(Transaction?)
        case subscribe
        case replication
    }

    /// A command kept for its reply.
    final class PendingCommand {
        let arguments: [[UInt8]]
        let traits: CommandTraits
        /// The key prefix on the mirror side (empty for the home database).
        let prefix: [UInt8]
        let database: Int

        init(arguments: [[UInt8]], traits: CommandTraits, prefix: [UInt8], database: Int) {
            self.arguments = arguments
            self.traits = traits
            self.prefix = prefix
            self.database = database
        }
    }

    /// MULTI's commands so far, and whether the transaction can be mirrored at all.
    struct Transaction {
        var commands: [PendingCommand] = []
        var mirrorable = true
        /// Keys of writes the mirror will not see (a command inside it that cannot be mirrored).
        var lostKeys: [[UInt8]] = []
        /// Why it is not mirrored, when that is to be recorded (writes in a database without a prefix).
        var unmirrored: String?
    }

    /// A dual-write reply waiting for the mirror.
    struct Held {
        var bytes: ByteBuffer
        var token: UInt64
        var ready: Bool
    }
}
