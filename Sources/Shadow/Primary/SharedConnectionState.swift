import NIOCore
import RESP

/// The logic of one primary connection shared by many clients (`SharedPrimary`), without I/O: its
/// setup (the proxy's own AUTH and SELECT, whose replies are checked, never delivered), which
/// client's replies come next and how many, and who rides it.
///
/// Replies come back in the order the commands were written, so a queue of (client, count) in
/// write order says whose every reply is; each client reads its own with its own reply scanner.
struct SharedConnectionState<Rider: AnyObject> {
    enum Phase: Equatable {
        case connecting
        /// The setup commands are sent; their replies are awaited.
        case settingUp
        case ready
        case closed
    }

    enum SetupOutcome: Equatable {
        case pending
        case ready
        /// The primary refused a setup command (wrong login, database out of range…).
        case refused
    }

    private(set) var phase = Phase.connecting
    private var setupLeft = 0
    private var setupScanner = RESPFrameScanner()
    private var setupFailed = false
    /// Clients attached: waiting for the connection to be ready, or riding it.
    private(set) var riders: [ObjectIdentifier: Rider] = [:]
    /// Whose replies come next, in write order, and how many of them.
    private(set) var owed = CircularBuffer<(rider: Rider, replies: Int)>()

    /// The commands that set a shared connection up: the proxy's own login (the flip), or the one
    /// the connection is shared under (`login`, a client's AUTH arguments), then the URL's database.
    static func setupCommands(policy: ClientSessionState.Policy, login: [[UInt8]]?) -> [[[UInt8]]] {
        var commands: [[[UInt8]]] = []
        if let proxyLogin = policy.login { commands.append(proxyLogin) }
        if let login { commands.append([Array("AUTH".utf8)] + login) }
        let loggedIn = policy.login != nil || login != nil || !policy.requiresAuth
        // Not logged in, the primary refuses SELECT; such a connection only ever answers NOAUTH.
        if policy.homeDatabase != 0 && loggedIn {
            commands.append([Array("SELECT".utf8), Array(String(policy.homeDatabase).utf8)])
        }
        return commands
    }

    /// The connection is up and `setup` commands were written on it.
    mutating func connected(setup: Int) -> SetupOutcome {
        guard phase == .connecting else { return .refused }
        setupLeft = setup
        phase = setup == 0 ? .ready : .settingUp
        return setup == 0 ? .ready : .pending
    }

    /// Reads the setup commands' replies from the front of `chunk` (what follows is the clients').
    mutating func setupRead(_ chunk: inout ByteBuffer) -> SetupOutcome {
        guard phase == .settingUp else { return phase == .ready ? .ready : .refused }
        var consumed = 0
        var broken = false
        chunk.withUnsafeReadableBytes { raw in
            while setupLeft > 0 && consumed < raw.count {
                // An error reply starts with '-' (or '!' in RESP3, which a setup never asks for).
                if setupScanner.atBoundary && (raw[consumed] == UInt8(ascii: "-") || raw[consumed] == UInt8(ascii: "!")) {
                    setupFailed = true
                }
                do {
                    guard let found = try setupScanner.next(raw, from: consumed) else {
                        consumed = raw.count
                        return
                    }
                    consumed = found.end
                    setupLeft -= 1
                } catch {
                    broken = true
                    return
                }
            }
        }
        chunk.moveReaderIndex(forwardBy: consumed)
        if broken || (setupLeft == 0 && setupFailed) {
            phase = .closed
            return .refused
        }
        guard setupLeft == 0 else { return .pending }
        phase = .ready
        return .ready
    }

    enum Attached: Equatable {
        /// It may send now.
        case ready
        /// It waits for the setup.
        case waiting
        /// The connection is gone.
        case unavailable
    }

    /// A client joins.
    mutating func attach(_ rider: Rider) -> Attached {
        guard phase != .closed else { return .unavailable }
        riders[ObjectIdentifier(rider)] = rider
        return phase == .ready ? .ready : .waiting
    }

    /// A client leaves (it moved, or went away); true when nobody rides the connection any more.
    mutating func detach(_ rider: Rider) -> Bool {
        riders.removeValue(forKey: ObjectIdentifier(rider))
        return riders.isEmpty
    }

    /// `rider` wrote commands that owe `replies` replies.
    mutating func sent(_ rider: Rider, replies: Int) {
        guard replies > 0 else { return }
        if let last = owed.indices.last, owed[last].rider === rider {
            owed[last].replies += replies
        } else {
            owed.append((rider, replies))
        }
    }

    /// Whose replies come next, and how many.
    var next: (rider: Rider, replies: Int)? { owed.first }

    /// The next rider read `replies` of its replies.
    mutating func answered(_ replies: Int) {
        guard let first = owed.indices.first, replies > 0 else { return }
        owed[first].replies -= replies
        if owed[first].replies <= 0 { owed.removeFirst() }
    }

    /// The connection is gone: everyone attached, and whether it had been ready for them.
    mutating func closed() -> (riders: [Rider], wasReady: Bool) {
        let wasReady = phase == .ready
        phase = .closed
        let all = Array(riders.values)
        riders.removeAll()
        owed.removeAll()
        return (all, wasReady)
    }
}
