import Foundation
import NIOCore
import RESP
import RedisClient
import Shadow
import TestSupport
import Testing

/// Clients sharing primary connections (`SharedPrimary`) against real redis-servers and real
/// clients: each gets exactly its own replies, a connection-bound command moves it to a connection
/// of its own with its state, and on a password-protected primary nobody rides a connection
/// logged in as someone it has not proved to be.
@Suite("clients sharing primary connections", .serialized)
struct SharedConnectionTests {
    /// The primary's client connections, less the one asking.
    static func connections(_ admin: RedisClient) async throws -> [Substring] {
        let list = try await admin.send(RESPCommand("CLIENT", "LIST")).text ?? ""
        return list.split(separator: "\n").filter { !$0.contains("cmd=client|list") }
    }

    /// A proxy in front of a primary that wants the password `s3cret-shared`, with a user `reader`
    /// (password `read-pw`) that may only GET `r:*` keys, and an admin client of the primary.
    static func passwordRig() async throws -> (ShadowRig, RedisClient) {
        let rig = try await ShadowRig(primaryArguments: ["--requirepass", "s3cret-shared"]) { config in
            config.primary.password = "s3cret-shared"
        }
        do {
            let admin = try rig.primary.client("redis://:s3cret-shared@127.0.0.1:\(rig.primary.port)")
            #expect(try await admin.send(RESPCommand("ACL", "SETUSER", "reader", "on", ">read-pw", "~r:*", "+get")) == .ok)
            return (rig, admin)
        } catch {
            rig.stop()
            throw error
        }
    }

    /// Samples the primary's connection count while `body` runs; returns the largest seen.
    static func busiest(_ admin: RedisClient, while body: @escaping @Sendable () throws -> ProgramResult) async throws -> (
        Int, ProgramResult
    ) {
        let done = AttackCount()
        let task = Task.detached {
            defer { done.add() }
            return try body()
        }
        var most = 0
        while done.value == 0 {
            most = max(most, try await connections(admin).count)
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        return (most, try await task.value)
    }

    static let fiftyClients = """
        import random, sys, threading, redis
        port = int(sys.argv[1])
        errors, lock = [], threading.Lock()
        start = threading.Barrier(50)
        def fail(*what):
            with lock: errors.append(what)
        def worker(i):
            # protocol=2, driver_info=None: no CLIENT SETINFO on connect, which would give it a connection of its own
            r = redis.Redis(port=port, protocol=2, driver_info=None, single_connection_client=True)
            start.wait()
            for n in range(150):
                key, value = f"own:{i}", f"{i}:{n}:" + "x" * random.randint(0, 3000)
                if r.set(key, value) is not True: fail(i, n, "set")
                if r.get(key) != value.encode(): fail(i, n, "get")
                if r.incr(f"count:{i}") != n + 1: fail(i, n, "incr")
                p = r.pipeline(transaction=False)
                p.get(key); p.incr(f"count:{i}"); p.decr(f"count:{i}"); p.exists(key); p.strlen(key); p.incr("total")
                got = p.execute()
                if got[:5] != [value.encode(), n + 2, n + 1, 1, len(value)]: fail(i, n, "pipeline", got[:5])
            r.close()
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(50)]
        for t in threads: t.start()
        for t in threads: t.join()
        print("errors", len(errors), errors[:3])
        print("total", redis.Redis(port=port, protocol=2, driver_info=None).get("total"))
        """

    @Test("50 redis-py clients interleaving GET, SET, INCR and pipelines over shared connections each get exactly their own replies")
    func fiftyClients() async throws {
        let rig = try await ShadowRig(readSample: 0.1)
        defer { rig.stop() }
        let admin = try rig.primary.client()
        let before = try await Self.connections(admin).count
        let (most, result) = try await Self.busiest(admin) { try rig.python(Self.fiftyClients) }
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("errors 0 []"), "\(result.stdout)")
        #expect(result.stdout.contains("total b'7500'"), "\(result.stdout)")
        // One shared connection per event loop (the machine's cores), not one per client.
        #expect(most - before <= System.coreCount, "\(most - before) primary connections for 50 clients")
        await admin.close()
        let summary = await rig.shutdown()
        let records = try rig.records()
        #expect(summary.metrics.mismatches[.diff] == nil, "\(records.prefix(3))")
        let differences = try await keyspaceDifferences(try rig.primary.client(), try rig.target.client())
        #expect(differences.isEmpty, "\(differences.prefix(5))")
    }

    @Test("SELECT 1 mid-stream: the client moves to a connection of its own, after the replies it was owed, and sees its own database")
    func selectMidStream() async throws {
        let rig = try await ShadowRig()
        defer { rig.stop() }
        let admin = try rig.primary.client()
        // One write: what comes before SELECT is answered over the shared connection, the rest in database 1.
        let pipeline = "SET k zero\r\nSELECT 1\r\nGET k\r\nSET k one\r\nGET k\r\n"
        let replies = try RawSocket.exchange(port: rig.port, bytes: Array(pipeline.utf8), quiet: 0.5)
        #expect(String(decoding: replies, as: UTF8.self) == "+OK\r\n+OK\r\n$-1\r\n+OK\r\n$3\r\none\r\n")
        let other = try rig.client()
        #expect(try await other.send(RESPCommand("GET", "k")) == .bulk("zero"), "the shared connection is still in database 0")
        // Held open, it keeps its own connection, in database 1.
        guard let fd = RawSocket.connect(port: rig.port) else { throw TestSupportError("cannot connect") }
        defer { close(fd) }
        RawSocket.send(fd, Array("SELECT 1\r\n".utf8))
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        #expect(n == 5)
        let lines = try await Self.connections(admin)
        #expect(lines.filter { $0.contains(" db=1 ") }.count == 1, "\(lines)")
        RawSocket.send(fd, Array("GET k\r\n".utf8))
        let m = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        #expect(String(decoding: buffer[0..<max(0, m)], as: UTF8.self) == "$3\r\none\r\n")
        await other.close()
        await admin.close()
        let summary = await rig.shutdown()
        #expect(summary.metrics.mismatches[.diff] == nil)
    }

    @Test("clients that go away with large replies in flight on a shared connection: the others keep getting exactly their own")
    func orphanedReplies() async throws {
        let rig = try await ShadowRig()
        defer { rig.stop() }
        let admin = try rig.primary.client()
        let big = String(repeating: "b", count: 200_000)
        #expect(try await admin.send(RESPCommand("SET", "big", big)) == .ok)
        let riders = try (0..<4).map { _ in try rig.client() }
        for (i, r) in riders.enumerated() { #expect(try await r.send(RESPCommand("SET", "own:\(i)", "v\(i)")) == .ok) }
        // On every event loop, clients ask for megabytes and close without reading them.
        let ask = Array(String(repeating: "GET big\r\n", count: 50).utf8)
        for _ in 0..<8 {
            guard let fd = RawSocket.connect(port: rig.port) else { throw TestSupportError("cannot connect") }
            RawSocket.send(fd, ask)
            close(fd)
        }
        for round in 0..<50 {
            for (i, r) in riders.enumerated() {
                #expect(try await r.send(RESPCommand("GET", "own:\(i)")) == .bulk("v\(i)"), "round \(round)")
            }
        }
        #expect(try await Self.connections(admin).count <= 1 + System.coreCount, "the shared connections were not torn down")
        // The big GETs did reach the primary (their replies had nobody to go to), beside the riders' 200.
        let stats = try await admin.send(RESPCommand("INFO", "commandstats")).text ?? ""
        let gets = stats.split(whereSeparator: \.isNewline).first { $0.hasPrefix("cmdstat_get:") }
        let calls = gets.flatMap { $0.split(separator: "=").dropFirst().first?.split(separator: ",").first }.flatMap { Int($0) } ?? 0
        #expect(calls > 200, "\(gets ?? "no GET stats")")
        for r in riders { await r.close() }
        await admin.close()
        _ = await rig.shutdown()
    }

    static let transactions = """
        import sys, threading, redis
        port = int(sys.argv[1])
        stop = threading.Event()
        def hammer():
            r = redis.Redis(port=port, protocol=2, driver_info=None)
            while not stop.is_set(): r.incr("c")
        others = [threading.Thread(target=hammer) for _ in range(8)]
        for t in others: t.start()
        r = redis.Redis(port=port, protocol=2, driver_info=None, single_connection_client=True)
        r.incr("c")
        consecutive = 0
        for _ in range(50):
            p = r.pipeline(transaction=True); p.incr("c"); p.incr("c"); p.incr("c")
            a, b, c = p.execute()
            consecutive += (b == a + 1 and c == b + 1)
        print("consecutive", consecutive)
        w = redis.Redis(port=port, protocol=2, driver_info=None, single_connection_client=True)
        with w.pipeline() as p:
            p.watch("w")
            redis.Redis(port=port, protocol=2, driver_info=None).set("w", "theirs")
            p.multi(); p.set("w", "mine")
            try:
                p.execute(); print("watch ignored")
            except redis.WatchError:
                print("watch held")
        stop.set()
        for t in others: t.join()
        print("w", redis.Redis(port=port, protocol=2, driver_info=None).get("w"))
        """

    @Test("MULTI and WATCH mid-stream: the client's own connection keeps its transaction whole while others write over the shared one")
    func transactionMidStream() async throws {
        let rig = try await ShadowRig(readSample: 0)
        defer { rig.stop() }
        let result = try rig.python(Self.transactions)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("consecutive 50"), "\(result.stdout)")
        #expect(result.stdout.contains("watch held"), "\(result.stdout)")
        #expect(result.stdout.contains("w b'theirs'"), "\(result.stdout)")
        let summary = await rig.shutdown()
        #expect(summary.metrics.mismatches[.diff] == nil)
        let differences = try await keyspaceDifferences(try rig.primary.client(), try rig.target.client())
        #expect(differences.isEmpty, "\(differences)")
    }

    @Test("password-protected primary: only a client whose own AUTH held rides a logged-in connection, with that login's rights")
    func loginIsNeverLent() async throws {
        let (rig, admin) = try await Self.passwordRig()
        defer { rig.stop() }
        // Each exchange is a new connection, sent straight to redis-server and through the proxy.
        func same(_ input: String, _ why: Comment) throws {
            let direct = try RawSocket.exchange(port: rig.primary.port, bytes: Array(input.utf8), quiet: 0.3)
            let proxied = try RawSocket.exchange(port: rig.port, bytes: Array(input.utf8), quiet: 0.3)
            #expect(String(decoding: proxied, as: UTF8.self) == String(decoding: direct, as: UTF8.self), why)
        }
        // A logged-in client holds the shared connection logged in with the password open throughout.
        guard let holder = RawSocket.connect(port: rig.port) else { throw TestSupportError("cannot connect") }
        defer { close(holder) }
        RawSocket.send(holder, Array("AUTH s3cret-shared\r\nSET k v\r\n".utf8))
        var buffer = [UInt8](repeating: 0, count: 256)
        try await Task.sleep(nanoseconds: 200_000_000)
        let n = buffer.withUnsafeMutableBytes { recv(holder, $0.baseAddress, $0.count, 0) }
        #expect(String(decoding: buffer[0..<max(0, n)], as: UTF8.self) == "+OK\r\n+OK\r\n")

        try same("GET k\r\n", "not logged in: NOAUTH, though a logged-in shared connection is open")
        try same("AUTH wrong\r\nGET k\r\n", "a wrong password: WRONGPASS, then still NOAUTH")
        try same(
            "AUTH s3cret-shared\r\nGET k\r\nAUTH wrong\r\nGET k\r\n", "a failed AUTH after a good one keeps the good one, as Redis does")
        try same("AUTH reader read-pw\r\nGET r:1\r\nSET r:1 x\r\nGET k\r\n", "another user: that user's rights, not the default user's")
        try same("AUTH reader read-pw\r\nAUTH s3cret-shared\r\nSET k w\r\nGET k\r\n", "from one login to another")
        // HELLO's reply names the connection's id, which differs: only what follows is compared.
        let hello = try RawSocket.exchange(port: rig.port, bytes: Array("HELLO 3 AUTH default s3cret-shared\r\nGET k\r\n".utf8), quiet: 0.3)
        #expect(String(decoding: hello, as: UTF8.self).hasSuffix("$1\r\nw\r\n"), "HELLO's login, on a connection of its own")

        // The password changes: a connection logged in before keeps working (as with Redis), yet a
        // client giving the old password now is refused, although the shared connection logged in
        // with it is still open.
        #expect(try await admin.send(RESPCommand("CONFIG", "SET", "requirepass", "n3w-pass")) == .ok)
        try same("AUTH s3cret-shared\r\nGET k\r\n", "the old password is refused now")
        try same("AUTH n3w-pass\r\nGET k\r\n", "the new one holds")
        RawSocket.send(holder, Array("GET k\r\n".utf8))
        try await Task.sleep(nanoseconds: 200_000_000)
        let m = buffer.withUnsafeMutableBytes { recv(holder, $0.baseAddress, $0.count, 0) }
        #expect(String(decoding: buffer[0..<max(0, m)], as: UTF8.self) == "$1\r\nw\r\n", "the client logged in before keeps its login")
        await admin.close()
        _ = await rig.shutdown()
    }

    static let mixedLogins = """
        import sys, threading, redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry
        port = int(sys.argv[1])
        bad = []
        def worker(i):
            kind = i % 3
            if kind == 0: r = redis.Redis(port=port, protocol=2, driver_info=None, single_connection_client=True, password="s3cret-shared")
            elif kind == 1: r = redis.Redis(port=port, protocol=2, driver_info=None, single_connection_client=True, username="reader", password="read-pw")
            # No retries: redis-py 8 retries an AuthenticationError (NOAUTH) with backoff, as against redis-server itself.
            else: r = redis.Redis(port=port, protocol=2, driver_info=None, single_connection_client=True, retry=Retry(NoBackoff(), 0))
            for n in range(100):
                try:
                    got = r.set(f"w:{i}", n)
                    if kind != 0: bad.append((i, n, "set allowed", got))
                except redis.exceptions.RedisError as e:
                    if kind == 0 or ("permissions" if kind == 1 else "Authentication required") not in str(e): bad.append((i, n, str(e)))
                try:
                    got = r.get(f"r:{i}")
                    if kind == 2: bad.append((i, n, "get allowed", got))
                except redis.exceptions.RedisError as e:
                    if kind != 2 or "Authentication required" not in str(e): bad.append((i, n, str(e)))
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(30)]
        for t in threads: t.start()
        for t in threads: t.join()
        print("bad", len(bad), bad[:3])
        """

    @Test("30 redis-py clients, logged in as default, as a restricted user and not at all, interleaved: each keeps exactly its own rights")
    func mixedLogins() async throws {
        let (rig, admin) = try await Self.passwordRig()
        defer { rig.stop() }
        let before = try await Self.connections(admin).count
        let (most, result) = try await Self.busiest(admin) { try rig.python(Self.mixedLogins) }
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("bad 0 []"), "\(result.stdout)")
        // Three logins (none, the password, reader's) shared per event loop, not one connection per client.
        #expect(most - before <= 3 * System.coreCount, "\(most - before) primary connections for 30 clients")
        await admin.close()
        _ = await rig.shutdown()
    }
}
