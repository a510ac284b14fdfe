import NIOCore
import RESP
import Testing

@testable import Shadow

/// Every transition of one client connection, bytes in and actions out, no sockets.
@Suite("the client session state machine")
struct ClientSessionStateTests {
    typealias State = ClientSessionState

    static func bytes(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }
    static func text(_ b: ByteBuffer?) -> String { b.map { String(buffer: $0) } ?? "" }

    static func forwarded(_ a: State.Action) -> String? {
        switch a {
        case .forward(let b): return text(b)
        case .forwardAndStopReading(let b): return text(b)
        case .deliver(_, _, let f): return f.map(text)
        default: return nil
        }
    }

    static func delivered(_ a: State.Action) -> (String, [Mirroring])? {
        switch a {
        case .deliver(let b, let m, _): return (text(b), m)
        case .close(let b, let m, _): return (text(b), m)
        default: return nil
        }
    }

    static func items(_ m: [Mirroring]) -> [MirrorRequest] {
        m.compactMap { if case .item(let r) = $0 { return r } else { return nil } }
    }

    static func args(_ r: MirrorRequest) -> [String] {
        guard case .single(let c, _) = r.unit else { return [] }
        return c.arguments.map { String(decoding: $0, as: UTF8.self) }
    }

    @Test("multibulk commands are forwarded as the client sent them, a pipeline in one write")
    func forwardsAsSent() async throws {
        var m = try await CommandTableFixture.machine()
        let pipeline = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
        #expect(Self.forwarded(m.clientRead(Self.bytes(pipeline))) == pipeline)
        #expect(m.awaiting.count == 2)
    }

    @Test("a command cut in two is forwarded once whole")
    func partial() async throws {
        var m = try await CommandTableFixture.machine()
        guard case .none = m.clientRead(Self.bytes("*2\r\n$3\r\nGET\r\n$5\r\nab")) else {
            Issue.record("a partial command was forwarded")
            return
        }
        #expect(Self.forwarded(m.clientRead(Self.bytes("cde\r\n"))) == "*2\r\n$3\r\nGET\r\n$5\r\nabcde\r\n")
    }

    @Test("*-10 and *0 are skipped as redis-server skips them; PING behind them still goes")
    func negativeCount() async throws {
        var m = try await CommandTableFixture.machine()
        #expect(Self.forwarded(m.clientRead(Self.bytes("*-10\r\n*0\r\n\r\n*1\r\n$4\r\nPING\r\n"))) == "*1\r\n$4\r\nPING\r\n")
        #expect(m.awaiting.count == 1)
    }

    @Test("an inline command is split by Redis's quoting rules and forwarded as RESP")
    func inline() async throws {
        var m = try await CommandTableFixture.machine()
        let out = Self.forwarded(m.clientRead(Self.bytes("set \"q a\" \"x\\x41y\"\r\n")))
        #expect(out == "*3\r\n$3\r\nset\r\n$3\r\nq a\r\n$3\r\nxAy\r\n")
    }

    @Test("malformed input with nothing owed: Redis's error text, then both connections close")
    func protocolErrorAtOnce() async throws {
        var m = try await CommandTableFixture.machine()
        guard case .close(let b, let mirror, let reason) = m.clientRead(Self.bytes("*1\r\n$-5\r\n")) else {
            Issue.record("not closed")
            return
        }
        #expect(Self.text(b) == "-ERR Protocol error: invalid bulk length\r\n")
        #expect(reason == .protocolError("invalid bulk length"))
        guard case .protocolError(let why)? = mirror.first else {
            Issue.record("no protocol-error record")
            return
        }
        #expect(!why.contains("-5"), "no byte of the client's is kept")
        #expect(m.phase == .closed)
    }

    @Test("malformed input after a good command: the reply first, then the error, then the close")
    func protocolErrorAfterReplies() async throws {
        var m = try await CommandTableFixture.machine()
        let a = m.clientRead(Self.bytes("*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n"))
        guard case .forwardAndStopReading(let f) = a else {
            Issue.record("expected forwardAndStopReading, got \(a)")
            return
        }
        #expect(Self.text(f) == "*1\r\n$4\r\nPING\r\n")
        #expect(m.stopsReadingClient)
        guard case .close(let b, _, _) = m.primaryRead(Self.bytes("+PONG\r\n"), nowMs: 0) else {
            Issue.record("not closed after the owed reply")
            return
        }
        #expect(Self.text(b) == "+PONG\r\n-ERR Protocol error: expected '$', got 'f'\r\n")
    }

    @Test("unauthenticated clients get Redis's small limits; after AUTH they are lifted")
    func unauthenticatedLimits() async throws {
        var policy = State.Policy()
        policy.requiresAuth = true
        var m = try await CommandTableFixture.machine(policy)
        guard case .close(let b, _, _) = m.clientRead(Self.bytes("*1\r\n$100000000\r\n")) else {
            Issue.record("a huge unauthenticated bulk was buffered")
            return
        }
        #expect(Self.text(b) == "-ERR Protocol error: unauthenticated bulk length\r\n")
        var n = try await CommandTableFixture.machine(policy)
        guard case .close(let c, _, _) = n.clientRead(Self.bytes("*11\r\n")) else {
            Issue.record("eleven unauthenticated arguments were accepted")
            return
        }
        #expect(Self.text(c) == "-ERR Protocol error: unauthenticated multibulk length\r\n")
        var o = try await CommandTableFixture.machine(policy)
        // AUTH is a barrier: what follows is framed once the primary said whether it held.
        let auth = "*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n"
        #expect(Self.forwarded(o.clientRead(Self.bytes(auth + "*1\r\n$100000\r\n"))) == auth)
        let after = o.primaryRead(Self.bytes("+OK\r\n"), nowMs: 0)
        guard case .deliver(let d, _, nil) = after else {
            Issue.record("expected the OK delivered and nothing forwarded yet, got \(after)")
            return
        }
        #expect(Self.text(d) == "+OK\r\n")
        #expect(o.authenticated)
    }

    @Test("a wrong password leaves the limits on")
    func wrongPassword() async throws {
        var policy = State.Policy()
        policy.requiresAuth = true
        var m = try await CommandTableFixture.machine(policy)
        _ = m.clientRead(Self.bytes("*2\r\n$4\r\nAUTH\r\n$5\r\nwrong\r\n"))
        _ = m.primaryRead(Self.bytes("-WRONGPASS invalid username-password pair or user is disabled.\r\n"), nowMs: 0)
        #expect(!m.authenticated)
    }

    @Test("a mirrored write carries the primary's reply; an unsampled read carries nothing")
    func mirrorsWrites() async throws {
        var policy = State.Policy()
        policy.readSample = 0
        var m = try await CommandTableFixture.machine(policy)
        _ = m.clientRead(Self.bytes("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"))
        guard let (out, mirror) = Self.delivered(m.primaryRead(Self.bytes("+OK\r\n$1\r\nv\r\n"), nowMs: 0)) else {
            Issue.record("nothing delivered")
            return
        }
        #expect(out == "+OK\r\n$1\r\nv\r\n")
        let items = Self.items(mirror)
        #expect(items.count == 1)
        #expect(items.first.map { Self.args($0) } == ["SET", "k", "v"])
        #expect(items.first.map { $0.expected } == .ok)
    }

    @Test(
        "effects: what the mirror runs for what the primary answered",
        arguments: [
            ("*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n", "*2\r\n$1\r\nq\r\n$1\r\na\r\n", ["LPOP", "q"], RESPValue.bulk("a")),
            ("*4\r\n$10\r\nBRPOPLPUSH\r\n$1\r\ns\r\n$1\r\nd\r\n$1\r\n0\r\n", "$1\r\nb\r\n", ["RPOPLPUSH", "s", "d"], .bulk("b")),
            (
                "*3\r\n$8\r\nBZPOPMIN\r\n$1\r\nz\r\n$1\r\n0\r\n", "*3\r\n$1\r\nz\r\n$1\r\nm\r\n$1\r\n1\r\n", ["ZREM", "z", "m"],
                .integer(1)
            ),
            ("*3\r\n$4\r\nSPOP\r\n$1\r\ns\r\n$1\r\n2\r\n", "*2\r\n$1\r\nx\r\n$1\r\ny\r\n", ["SREM", "s", "x", "y"], .integer(2)),
            ("*3\r\n$6\r\nEXPIRE\r\n$1\r\nk\r\n$2\r\n10\r\n", ":1\r\n", ["PEXPIREAT", "k", "1000010000"], .integer(1)),
            ("*4\r\n$5\r\nSETEX\r\n$1\r\nk\r\n$1\r\n5\r\n$1\r\nv\r\n", "+OK\r\n", ["SET", "k", "v", "PXAT", "1000005000"], .ok),
            ("*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n$2\r\nEX\r\n$1\r\n7\r\n", "+OK\r\n", ["SET", "k", "v", "PXAT", "1000007000"], .ok),
        ] as [(String, String, [String], RESPValue)])
    func effects(command: String, reply: String, mirrored: [String], expected: RESPValue) async throws {
        var m = try await CommandTableFixture.machine()
        _ = m.clientRead(Self.bytes(command))
        let items = Self.items(Self.delivered(m.primaryRead(Self.bytes(reply), nowMs: 1_000_000_000))?.1 ?? [])
        #expect(items.count == 1)
        #expect(items.first.map { Self.args($0) } == mirrored)
        #expect(items.first.map { $0.expected } == expected)
    }

    @Test("a blocking pop that timed out, and a script SCRIPT KILL stopped, mirror nothing")
    func nothingToMirror() async throws {
        var m = try await CommandTableFixture.machine()
        _ = m.clientRead(Self.bytes("*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n1\r\n"))
        let timedOut = Self.items(Self.delivered(m.primaryRead(Self.bytes("*-1\r\n"), nowMs: 0))?.1 ?? [])
        #expect(timedOut.isEmpty)
        _ = m.clientRead(Self.bytes("*3\r\n$4\r\nEVAL\r\n$16\r\nwhile 1 do end 1\r\n$1\r\n0\r\n"))
        let killed = "-ERR Error running script (call to f_x): @user_script:1: Script killed by user with SCRIPT KILL...\r\n"
        let replayed = Self.items(Self.delivered(m.primaryRead(Self.bytes(killed), nowMs: 0))?.1 ?? [])
        #expect(replayed.isEmpty)
    }

    @Test("scripts are writes unless read-only by name or by their shebang")
    func scripts() async throws {
        var policy = State.Policy()
        policy.readSample = 0
        var m = try await CommandTableFixture.machine(policy)
        let write = "*3\r\n$4\r\nEVAL\r\n$8\r\nreturn 1\r\n$1\r\n0\r\n"
        let noWrites = "*3\r\n$4\r\nEVAL\r\n$33\r\n#!lua flags=no-writes\nreturn 1   \r\n$1\r\n0\r\n"
        let ro = "*3\r\n$7\r\nEVAL_RO\r\n$8\r\nreturn 1\r\n$1\r\n0\r\n"
        _ = m.clientRead(Self.bytes(write + noWrites + ro))
        let items = Self.items(Self.delivered(m.primaryRead(Self.bytes(":1\r\n:1\r\n:1\r\n"), nowMs: 0))?.1 ?? [])
        #expect(items.count == 1)
        #expect(items.first.map { $0.isWrite } == true)
    }

    @Test("writes in another database: under its prefix, or recorded as not mirrored")
    func databases() async throws {
        var policy = State.Policy()
        policy.databases = DatabaseMapping(prefixes: [3: Array("db3:".utf8)])
        var m = try await CommandTableFixture.machine(policy)
        let select3 = "*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n"
        let set = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
        #expect(Self.forwarded(m.clientRead(Self.bytes(select3 + set))) == select3)
        let a = m.primaryRead(Self.bytes("+OK\r\n"), nowMs: 0)
        #expect(Self.forwarded(a) == set, "SELECT is a barrier: SET goes once it held")
        let items = Self.items(Self.delivered(m.primaryRead(Self.bytes("+OK\r\n"), nowMs: 0))?.1 ?? [])
        #expect(items.first.map { Self.args($0) } == ["SET", "db3:k", "v"])

        var n = try await CommandTableFixture.machine()
        _ = n.clientRead(Self.bytes(select3))
        _ = n.primaryRead(Self.bytes("+OK\r\n"), nowMs: 0)
        _ = n.clientRead(Self.bytes(set))
        let recorded = Self.delivered(n.primaryRead(Self.bytes("+OK\r\n"), nowMs: 0))?.1 ?? []
        guard case .unmirrored(let command, let keys, _, let diverges)? = recorded.first else {
            Issue.record("the write in db 3 was not recorded: \(recorded)")
            return
        }
        #expect(command == "SET" && keys == [Array("k".utf8)] && !diverges)
    }

    @Test("the URL's database is selected by the proxy, and its reply never reaches the client")
    func homeDatabase() async throws {
        var policy = State.Policy()
        policy.homeDatabase = 2
        var m = ClientSessionState(
            policy: policy, classifier: CommandClassifier(table: try await CommandTableFixture.table()), scripts: ScriptRegistry(), seed: 1)
        #expect(Self.forwarded(m.primaryConnected()) == "*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n")
        #expect(Self.forwarded(m.clientRead(Self.bytes("*1\r\n$4\r\nPING\r\n"))) == nil, "held behind the proxy's SELECT")
        let a = m.primaryRead(Self.bytes("+OK\r\n"), nowMs: 0)
        #expect(Self.forwarded(a) == "*1\r\n$4\r\nPING\r\n")
        #expect(Self.delivered(a)?.0 == "")
        #expect(Self.delivered(m.primaryRead(Self.bytes("+PONG\r\n"), nowMs: 0))?.0 == "+PONG\r\n")
    }

    @Test("SYNC turns the connection into a replication stream, passed through unread both ways")
    func replication() async throws {
        var m = try await CommandTableFixture.machine()
        let sync = "*1\r\n$4\r\nSYNC\r\n"
        #expect(Self.forwarded(m.clientRead(Self.bytes(sync + "REPLCONF ACK 0\r\n"))) == sync + "REPLCONF ACK 0\r\n")
        #expect(m.phase == .replication)
        let rdb = "$5\r\nREDIS*3\r\n$3\r\nSET\r\n"
        #expect(Self.delivered(m.primaryRead(Self.bytes(rdb), nowMs: 0))?.0 == rdb)
        #expect(Self.forwarded(m.clientRead(Self.bytes("garbage\r\n"))) == "garbage\r\n")
    }

    @Test("a reply 1000 levels deep, cut anywhere, passes through byte for byte")
    func deepReply() async throws {
        var m = try await CommandTableFixture.machine()
        _ = m.clientRead(Self.bytes("*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"))
        let deep = String(repeating: "*1\r\n", count: 1000) + ":1\r\n"
        let all = deep + "$1\r\nv\r\n"
        var out = ""
        for piece in stride(from: 0, to: all.utf8.count, by: 7).map({ Array(all.utf8)[$0..<min($0 + 7, all.utf8.count)] }) {
            out += Self.delivered(m.primaryRead(ByteBuffer(bytes: piece), nowMs: 0))?.0 ?? ""
        }
        #expect(out == all)
        #expect(m.awaiting.isEmpty)
    }

    @Test("dual-write: a mirrored command's reply, and every reply behind it, wait for the mirror")
    func dualWrite() async throws {
        var policy = State.Policy()
        policy.dualWrite = true
        policy.readSample = 0
        var m = try await CommandTableFixture.machine(policy)
        _ = m.clientRead(Self.bytes("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"))
        guard let (out, mirror) = Self.delivered(m.primaryRead(Self.bytes("+OK\r\n$1\r\nv\r\n"), nowMs: 0)) else {
            Issue.record("no mirror item")
            return
        }
        #expect(out == "")
        let token = try #require(Self.items(mirror).first?.token)
        #expect(Self.delivered(m.mirrorSettled(token))?.0 == "+OK\r\n$1\r\nv\r\n")
    }

    @Test("every way a connection ends closes both sides, once")
    func closes() async throws {
        var m = try await CommandTableFixture.machine()
        guard case .close(_, _, .primaryClosed) = m.primaryClosed() else {
            Issue.record("primary gone: client not closed")
            return
        }
        guard case .none = m.clientClosed() else {
            Issue.record("closed twice")
            return
        }
        var n = try await CommandTableFixture.machine()
        guard case .close(_, _, .clientClosed) = n.clientClosed() else {
            Issue.record("client gone: primary not closed")
            return
        }
        var o = try await CommandTableFixture.machine()
        guard
            case .close(let b, _, .primaryGarbage) = {
                _ = o.clientRead(Self.bytes("*1\r\n$4\r\nPING\r\n")); return o.primaryRead(Self.bytes("?x\r\n"), nowMs: 0)
            }()
        else {
            Issue.record("garbage from the primary did not close")
            return
        }
        #expect(Self.text(b).hasPrefix("-ERR upshift: the primary sent bytes that are not RESP"))
        var p = ClientSessionState(
            policy: .init(), classifier: CommandClassifier(table: try await CommandTableFixture.table()), scripts: ScriptRegistry(), seed: 1
        )
        guard case .close(_, _, .primaryUnreachable) = p.primaryUnreachable("127.0.0.1:1") else {
            Issue.record("unreachable primary did not close")
            return
        }
    }
}
