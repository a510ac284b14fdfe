import RESP
import UpstashClient
import UpstashProfile

/// The per-connection state a client expects of Redis and a pooled primary does not keep: MULTI's
/// queue, the login, the protocol, the database. One command in, one step out; no I/O, so it is tested alone.
///
/// After the flip (`--primary-side upstash`) an app talks to Upstash through the proxy without a
/// code change: its connection handshake (AUTH, HELLO, CLIENT SETNAME, SELECT 0) is answered here,
/// MULTI…EXEC becomes one `/multi-exec`, SUBSCRIBE and PSUBSCRIBE become Upstash's subscription
/// streams (`PooledSubscriptions`), and what the primary cannot serve this way (blocking commands,
/// WATCH, SSUBSCRIBE, SELECT n) gets one clear error instead of a request that would fail its whole pipeline.
struct PooledConnectionState {
    /// The password clients log in with: the old primary's, so the app's URL keeps working.
    let password: [UInt8]?
    /// The error text for a command the primary cannot serve this way, nil for one it can.
    private let refusal: (([[UInt8]]) -> String?)
    private var queued: [RESPCommand]?
    private var aborted = false
    /// The client asked for RESP3 (HELLO 3): Upstash's RESP2 replies are upgraded for it.
    private(set) var resp3 = false
    /// True when the primary streams subscriptions (Upstash's server-sent events).
    private let streamsPubSub: Bool
    private var subscriptions = PooledSubscriptions()

    init(
        password: [UInt8]?, refusal: @escaping ([[UInt8]]) -> String? = PooledPrimary.upstashRefusal, streamsPubSub: Bool = false
    ) {
        self.password = password
        self.refusal = refusal
        self.streamsPubSub = streamsPubSub
    }

    /// True while the client holds `n`.
    func isSubscribed(_ n: PooledSubscriptions.Name) -> Bool { subscriptions.contains(n) }

    /// The primary confirmed `n`: the reply the client gets for it.
    mutating func confirmed(_ n: PooledSubscriptions.Name) -> [UInt8] { subscriptions.confirmed(n, resp3: resp3) }

    /// True between MULTI and EXEC/DISCARD.
    var inTransaction: Bool { queued != nil }

    mutating func step(_ argv: [[UInt8]]) -> PooledStep {
        let name = UpstashCompatibility.commandName(argv)
        if streamsPubSub, queued == nil, let step = pubSub(name, argv) { return step }
        switch name {
        case "MULTI":
            if queued != nil { return error("ERR MULTI calls can not be nested") }
            queued = []
            aborted = false
            return .reply(Self.ok)
        case "EXEC":
            guard let commands = queued else { return error("ERR EXEC without MULTI") }
            queued = nil
            if aborted { return error("EXECABORT Transaction discarded because of previous errors.") }
            if commands.isEmpty { return .reply(Array("*0\r\n".utf8)) }
            return .transaction(commands)
        case "DISCARD":
            guard queued != nil else { return error("ERR DISCARD without MULTI") }
            queued = nil
            return .reply(Self.ok)
        case "QUIT":
            return .replyAndClose(Self.ok)
        case "RESET":
            queued = nil
            resp3 = false
            return .reply(Array("+RESET\r\n".utf8))
        default:
            break
        }
        let answer = local(name, argv)
        if queued != nil {
            // Redis checks a queued command when it arrives; a refused one aborts the transaction at EXEC.
            if let answer {
                if answer.first == UInt8(ascii: "-") { aborted = true }
                return .reply(answer)
            }
            queued!.append(RESPCommand(arguments: argv))
            return .reply(Array("+QUEUED\r\n".utf8))
        }
        if let answer { return .reply(answer) }
        return .remote(RESPCommand(arguments: argv))
    }

    /// Subscriptions, and what a subscribed client may do: nil when `name` is none of their business.
    private mutating func pubSub(_ name: String, _ argv: [[UInt8]]) -> PooledStep? {
        switch name {
        case "SUBSCRIBE", "PSUBSCRIBE":
            guard argv.count >= 2 else { return error("ERR wrong number of arguments for '\(name.lowercased())' command") }
            let kind: EventStreamKind = name == "SUBSCRIBE" ? .subscribe : .psubscribe
            return .subscribe(argv.dropFirst().map { PooledSubscriptions.Name(kind: kind, name: $0) })
        case "UNSUBSCRIBE", "PUNSUBSCRIBE":
            let (closing, reply) = subscriptions.unsubscribe(
                name == "UNSUBSCRIBE" ? .subscribe : .psubscribe, Array(argv.dropFirst()), resp3: resp3)
            return .unsubscribe(closing: closing, reply: reply)
        default:
            break
        }
        guard !subscriptions.isEmpty else { return nil }
        switch name {
        case "PING":
            return .reply(PooledSubscriptions.ping(argv, resp3: resp3))
        case "RESET":
            resp3 = false
            return .unsubscribe(closing: subscriptions.removeAll(), reply: Array("+RESET\r\n".utf8))
        case _ where PooledSubscriptions.allowedWhileSubscribed(name):
            return nil
        default:
            return error(
                "ERR Can't execute '\(name.lowercased())': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
            )
        }
    }

    /// The proxy's own answer to a command, or nil when Upstash answers it.
    private mutating func local(_ name: String, _ argv: [[UInt8]]) -> [UInt8]? {
        switch name {
        case "AUTH":
            guard argv.count == 2 || argv.count == 3 else { return errorBytes("ERR wrong number of arguments for 'auth' command") }
            return login(argv.last!)
        case "HELLO":
            return hello(argv)
        case "SELECT":
            guard argv.count == 2 else { return errorBytes("ERR wrong number of arguments for 'select' command") }
            return argv[1] == Array("0".utf8) ? Self.ok : errorBytes("ERR upshift: the primary has a single database 0")
        case "CLIENT":
            let sub = argv.count > 1 ? String(decoding: argv[1], as: UTF8.self).uppercased() : ""
            switch sub {
            case "SETNAME", "SETINFO", "NO-EVICT", "NO-TOUCH": return Self.ok
            case "GETNAME": return Array("$-1\r\n".utf8)
            default: break
            }
        case "UNWATCH":
            // Nothing is ever watched here, so there is nothing to forget.
            return Self.ok
        default:
            break
        }
        return refusal(argv).map(errorBytes)
    }

    private func login(_ given: [UInt8]) -> [UInt8] {
        guard let password else { return Self.ok }
        return given == password ? Self.ok : errorBytes("WRONGPASS invalid username-password pair or user is disabled.")
    }

    /// HELLO [2|3] [AUTH user pass] [SETNAME name]: the handshake, answered in the protocol asked for.
    private mutating func hello(_ argv: [[UInt8]]) -> [UInt8] {
        var proto = resp3 ? 3 : 2
        if argv.count > 1 {
            switch argv[1] {
            case Array("2".utf8): proto = 2
            case Array("3".utf8): proto = 3
            default: return errorBytes("NOPROTO sorry, this protocol version is not supported.")
            }
        }
        var i = 2
        while i < argv.count {
            let option = String(decoding: argv[i], as: UTF8.self).uppercased()
            if option == "AUTH", i + 2 < argv.count {
                let answer = login(argv[i + 2])
                if answer != Self.ok { return answer }
                i += 3
            } else if option == "SETNAME", i + 1 < argv.count {
                i += 2
            } else {
                return errorBytes("ERR Syntax error in HELLO option '\(option)'")
            }
        }
        resp3 = proto == 3
        var out: [UInt8] = []
        let fields: [RESPValue] = [
            .bulk("server"), .bulk("redis"), .bulk("version"), .bulk("7.0.0"), .bulk("proto"), .integer(Int64(proto)), .bulk("id"),
            .integer(1), .bulk("mode"), .bulk("standalone"), .bulk("role"), .bulk("master"), .bulk("modules"), .array([]),
        ]
        if resp3 {
            RESP3Upgrade.encode(.array(fields), as: .map, into: &out)
        } else {
            RESPSerializer.write(.array(fields), into: &out)
        }
        return out
    }

    private func error(_ text: String) -> PooledStep { .reply(errorBytes(text)) }

    private func errorBytes(_ text: String) -> [UInt8] {
        RESPSerializer.encode(.error(Array(text.utf8.map { $0 == 13 || $0 == 10 ? 32 : $0 })))
    }

    static let ok = Array("+OK\r\n".utf8)
}
