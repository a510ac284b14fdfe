import NIOCore
import RESP
import Testing

@testable import Shadow

/// The shared path's transitions, bytes in and actions out, no sockets: when a client leaves a
/// shared primary connection, what it sends on arrival, what AUTH does, and whose reply is whose.
@Suite("sharing a primary connection: the state machines")
struct SharedPathStateTests {
    typealias State = ClientSessionState
    typealias T = ClientSessionStateTests

    static func shared(_ configure: (inout State.Policy) -> Void = { _ in }) async throws -> State {
        var policy = State.Policy()
        policy.sharing = true
        policy.readSample = 0
        configure(&policy)
        var m = ClientSessionState(
            policy: policy, classifier: CommandClassifier(table: try await CommandTableFixture.table()), scripts: ScriptRegistry(), seed: 3)
        guard case .none = m.primaryConnected() else {
            Issue.record("a shared connection is set up by the proxy, not by each client")
            return m
        }
        return m
    }

    static func cmd(_ args: String...) -> String {
        "*\(args.count)\r\n" + args.map { "$\($0.utf8.count)\r\n\($0)\r\n" }.joined()
    }

    static func relinked(_ a: State.Action) -> (String, State.Link)? {
        if case .relink(let b, _, let to) = a { return (T.text(b), to) }
        return nil
    }

    static let pw: [[UInt8]] = [Array("pw".utf8)]

    @Test("a connection-bound command waits for the shared replies, then the client moves with its database")
    func movesToOwn() async throws {
        var m = try await Self.shared { $0.homeDatabase = 2 }
        let set = Self.cmd("SET", "k", "v")
        let multi = Self.cmd("MULTI") + Self.cmd("INCR", "c")
        #expect(T.forwarded(m.clientRead(T.bytes(set + multi))) == set, "MULTI is not framed on the shared connection")
        #expect(m.move == .relink(.own))
        let read = m.sharedRead(T.bytes("+OK\r\n"), nowMs: 0, limit: 1)
        #expect(read.consumed == 5 && read.replies == 1)
        let moved = try #require(Self.relinked(read.action))
        #expect(moved.0 == "+OK\r\n" && moved.1 == .own)
        #expect(T.forwarded(m.primaryConnected()) == Self.cmd("SELECT", "2"), "its own connection is put in its database first")
        let after = m.primaryRead(T.bytes("+OK\r\n"), nowMs: 0)
        #expect(T.forwarded(after) == multi)
        #expect(T.delivered(after)?.0 == "", "the proxy's SELECT is not the client's")
        #expect(T.delivered(m.primaryRead(T.bytes("+OK\r\n+QUEUED\r\n"), nowMs: 0))?.0 == "+OK\r\n+QUEUED\r\n")
        #expect(!m.isShared)
    }

    @Test("SELECT of the database it is in stays shared; SELECT of another moves it")
    func select() async throws {
        var m = try await Self.shared()
        #expect(T.forwarded(m.clientRead(T.bytes(Self.cmd("SELECT", "0")))) == Self.cmd("SELECT", "0"))
        _ = m.sharedRead(T.bytes("+OK\r\n"), nowMs: 0, limit: 1)
        #expect(m.isShared)
        #expect(Self.relinked(m.clientRead(T.bytes(Self.cmd("SELECT", "1"))))?.1 == .own)
    }

    @Test("AUTH goes to the connection shared under its arguments; a failed one goes back where it came from")
    func login() async throws {
        var m = try await Self.shared { $0.requiresAuth = true }
        let auth = Self.cmd("AUTH", "pw")
        let get = Self.cmd("GET", "k")
        #expect(Self.relinked(m.clientRead(T.bytes(auth + get)))?.1 == .shared(login: Self.pw), "nothing sent where it came from")
        #expect(T.forwarded(m.primaryConnected()) == auth, "AUTH is a barrier: GET waits for its reply")
        let refused = m.sharedRead(T.bytes("-WRONGPASS invalid username-password pair or user is disabled.\r\n"), nowMs: 0, limit: 1)
        let back = try #require(Self.relinked(refused.action))
        #expect(back.0.hasPrefix("-WRONGPASS") && back.1 == .shared(login: nil), "a failed AUTH never keeps the logged-in connection")
        #expect(!m.authenticated && m.login == nil)
        #expect(T.forwarded(m.primaryConnected()) == get, "GET goes where the client is not logged in")
        _ = m.sharedRead(T.bytes("-NOAUTH Authentication required.\r\n"), nowMs: 0, limit: 1)

        #expect(Self.relinked(m.clientRead(T.bytes(auth)))?.1 == .shared(login: Self.pw))
        #expect(T.forwarded(m.primaryConnected()) == auth)
        let held = m.sharedRead(T.bytes("+OK\r\n"), nowMs: 0, limit: 1)
        #expect(T.delivered(held.action)?.0 == "+OK\r\n")
        #expect(m.authenticated && m.login == Self.pw && m.link == .shared(login: Self.pw))
        #expect(T.forwarded(m.clientRead(T.bytes(auth))) == auth, "the same AUTH again stays where it is")
        _ = m.sharedRead(T.bytes("+OK\r\n"), nowMs: 0, limit: 1)

        // Its own connection is logged in as it was, by the proxy, before what it sent.
        #expect(Self.relinked(m.clientRead(T.bytes(Self.cmd("MULTI"))))?.1 == .own)
        #expect(T.forwarded(m.primaryConnected()) == auth)
        let after = m.primaryRead(T.bytes("+OK\r\n"), nowMs: 0)
        #expect(T.delivered(after)?.0 == "" && T.forwarded(after) == Self.cmd("MULTI"))
    }

    @Test("the proxy's own login replayed on a client's own connection is refused: the client is closed, told why")
    func replayedLoginRefused() async throws {
        var m = try await Self.shared()
        _ = m.clientRead(T.bytes(Self.cmd("AUTH", "pw")))
        _ = m.primaryConnected()
        _ = m.sharedRead(T.bytes("+OK\r\n"), nowMs: 0, limit: 1)
        _ = m.clientRead(T.bytes(Self.cmd("MULTI")))
        _ = m.primaryConnected()
        guard case .close(let b, _, .primaryRefusedSetup) = m.primaryRead(T.bytes("-WRONGPASS invalid\r\n"), nowMs: 0) else {
            Issue.record("not closed")
            return
        }
        #expect(T.text(b).hasPrefix("-ERR upshift: the primary refused the proxy's login"))
    }

    @Test("QUIT on a shared connection: +OK after every reply owed, then the close; nothing after it runs")
    func quit() async throws {
        var m = try await Self.shared()
        #expect(
            T.forwarded(m.clientRead(T.bytes(Self.cmd("GET", "k") + Self.cmd("QUIT") + Self.cmd("SET", "k", "v")))) == Self.cmd("GET", "k"))
        guard case .close(let b, _, .quit) = m.sharedRead(T.bytes("$1\r\nv\r\n"), nowMs: 0, limit: 1).action else {
            Issue.record("not closed after QUIT")
            return
        }
        #expect(T.text(b) == "$1\r\nv\r\n+OK\r\n")
    }

    @Test("each client reads only its own replies from a shared connection's bytes, cut anywhere")
    func ownRepliesOnly() async throws {
        var m = try await Self.shared()
        _ = m.clientRead(T.bytes(Self.cmd("GET", "a") + Self.cmd("GET", "b")))
        let theirs = "$1\r\n3\r\n"
        let read = m.sharedRead(T.bytes("$1\r\n1\r\n$1\r\n2\r\n" + theirs), nowMs: 0, limit: 2)
        #expect(read.consumed == 14 && read.replies == 2)
        #expect(T.delivered(read.action)?.0 == "$1\r\n1\r\n$1\r\n2\r\n")
        _ = m.clientRead(T.bytes(Self.cmd("GET", "c")))
        let first = m.sharedRead(T.bytes("$5\r\nab"), nowMs: 0, limit: 1)
        #expect(first.consumed == 6 && first.replies == 0)
        let rest = m.sharedRead(T.bytes("cde\r\n" + theirs), nowMs: 0, limit: 1)
        #expect(rest.consumed == 5 && rest.replies == 1)
        #expect(T.delivered(first.action)?.0 == "$5\r\nab" && T.delivered(rest.action)?.0 == "cde\r\n")
    }

    @Test("a client gone with replies in flight: they are read and dropped, to the byte")
    func orphans() async throws {
        var m = try await Self.shared()
        _ = m.clientRead(T.bytes(Self.cmd("GET", "a") + Self.cmd("GET", "b")))
        _ = m.clientClosed()
        let part = m.sharedRead(T.bytes("$1\r\n1\r\n$1"), nowMs: 0, limit: 2)
        #expect(part.consumed == 9 && part.replies == 1)
        let rest = m.sharedRead(T.bytes("\r\n2\r\n:7\r\n"), nowMs: 0, limit: 1)
        #expect(rest.consumed == 5 && rest.replies == 1)
        guard case .none = rest.action else {
            Issue.record("a closed client acted")
            return
        }
    }

    @Test("which commands keep a client on the shared path, read from the COMMAND flags")
    func sharing() async throws {
        let classifier = CommandClassifier(table: try await CommandTableFixture.table())
        func sharing(_ args: String...) -> CommandTraits.Sharing { classifier.traits(for: args.map { Array($0.utf8) }).sharing }
        #expect(sharing("GET", "k") == .anywhere && sharing("SET", "k", "v") == .anywhere && sharing("PING") == .anywhere)
        #expect(sharing("EVAL", "return 1", "0") == .anywhere, "scripts are noscript for another reason")
        #expect(sharing("MULTI") == .ownConnection && sharing("EXEC") == .ownConnection)
        #expect(sharing("BLPOP", "q", "0") == .ownConnection && sharing("XREADGROUP", "GROUP", "g", "c") == .ownConnection)
        #expect(sharing("SUBSCRIBE", "c") == .ownConnection && sharing("SYNC") == .ownConnection && sharing("HELLO", "3") == .ownConnection)
        #expect(sharing("NOSUCHCOMMAND") == .ownConnection, "nothing says what an unknown command does")
        #expect(sharing("AUTH", "pw") == .login && sharing("SELECT", "1") == .select && sharing("QUIT") == .quit)
    }

    final class Rider {}

    @Test("a shared connection's setup: the proxy's login and SELECT, replies checked and never delivered")
    func setup() async throws {
        var policy = State.Policy()
        policy.homeDatabase = 3
        typealias S = SharedConnectionState<Rider>
        #expect(S.setupCommands(policy: policy, login: nil) == [[Array("SELECT".utf8), Array("3".utf8)]])
        #expect(
            S.setupCommands(policy: policy, login: Self.pw) == [[Array("AUTH".utf8)] + Self.pw, [Array("SELECT".utf8), Array("3".utf8)]])
        policy.requiresAuth = true
        #expect(S.setupCommands(policy: policy, login: nil) == [], "not logged in, it selects nothing: it only ever answers NOAUTH")

        var s = S()
        #expect(s.connected(setup: 2) == .pending)
        var chunk = T.bytes("+OK\r\n+O")
        #expect(s.setupRead(&chunk) == .pending)
        chunk = T.bytes("K\r\n$1\r\nv\r\n")
        #expect(s.setupRead(&chunk) == .ready)
        #expect(String(buffer: chunk) == "$1\r\nv\r\n", "what follows the setup is the clients'")

        var refused = S()
        _ = refused.connected(setup: 2)
        chunk = T.bytes("-WRONGPASS invalid\r\n+OK\r\n")
        #expect(refused.setupRead(&chunk) == .refused)
        #expect(refused.attach(Rider()) == .unavailable)
    }

    @Test("replies are owed in write order, a client's consecutive writes counted together")
    func owed() {
        var s = SharedConnectionState<Rider>()
        _ = s.connected(setup: 0)
        let a = Rider()
        let b = Rider()
        #expect(s.attach(a) == .ready && s.attach(b) == .ready)
        s.sent(a, replies: 1)
        s.sent(b, replies: 2)
        s.sent(b, replies: 1)
        s.sent(a, replies: 0)
        #expect(s.owed.count == 2 && s.next?.rider === a && s.next?.replies == 1)
        s.answered(1)
        #expect(s.next?.rider === b && s.next?.replies == 3)
        s.answered(2)
        #expect(s.next?.replies == 1)
        #expect(!s.detach(a) && s.detach(b), "idle once nobody rides it")
    }
}
