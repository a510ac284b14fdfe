import Foundation
import NIOCore
import RESP
import RedisClient
import Shadow
import TestSupport
import Testing

/// The proxy answers any client byte for byte as redis-server would, and leaves nothing behind.
@Suite("the proxy is transparent", .serialized)
struct TransparencyTests {
    /// Inputs from redis-server's documented rules (networking.c, sds.c `sdssplitargs`) and its own
    /// protocol tests; each is sent straight to redis-server and through the proxy, and the bytes
    /// that come back (and whether the connection closed) must be the same.
    static let cases: [String] = [
        "*-10\r\nPING\r\n", "*0\r\nPING\r\n", "\r\n\r\nPING\r\n", "*3000000000\r\n", "*-0\r\nPING\r\n", "*01\r\n$4\r\nPING\r\n",
        "*1\r\n$04\r\nPING\r\n", "*1\r\n$+4\r\nPING\r\n", "*1\r\n$-5\r\n", "*1\r\n$999999999999\r\n", "*x\r\n",
        "*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n", "*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n", "*1\rX$4\r\nPING\r\n",
        "set \"q a\" \"x\\x41y\"\r\nget \"q a\"\r\n", "set 'a\\'b' c\r\nget \"a'b\"\r\n", "ECHO a\"b c\"\r\n", "ECHO a\"b c\"d\r\n",
        "set \"abc\r\n", "set 'abc\r\n", "ECHO \"a\\\"b\"\r\n", "echo \"\\x4g\"\r\n", "echo \"\\n\\t\\a\\b\\r\\z\"\r\n", "PING\n",
        "   PING   \r\n",
        "ECHO \"a\"\"b\"\r\n", "echo ''\r\n", "echo \"\"x\r\n",
    ]

    @Test("malformed and inline input: the same bytes back as from redis-server", arguments: cases)
    func sameAsRedis(input: String) async throws {
        let rig = try await ShadowRig()
        defer { rig.stop() }
        let bytes = Array(input.utf8)
        let direct = try RawSocket.exchange(port: rig.primary.port, bytes: bytes, quiet: 0.3)
        let proxied = try RawSocket.exchange(port: rig.port, bytes: bytes, quiet: 0.3)
        #expect(proxied == direct, "\(String(decoding: proxied, as: UTF8.self)) vs \(String(decoding: direct, as: UTF8.self))")
    }

    @Test("a reply 1000 levels deep (EVAL returning nested tables) arrives whole")
    func deepReply() async throws {
        let rig = try await ShadowRig()
        defer { rig.stop() }
        let script = "local t = {} local c = t for i = 1, 999 do local n = {} c[1] = n c = n end c[1] = 7 return t"
        var command = ""
        for a in ["EVAL", script, "0"] { command += "$\(a.utf8.count)\r\n\(a)\r\n" }
        let bytes = Array(("*3\r\n" + command + "*1\r\n$4\r\nPING\r\n").utf8)
        let direct = try RawSocket.exchange(port: rig.primary.port, bytes: bytes, quiet: 0.5)
        let proxied = try RawSocket.exchange(port: rig.port, bytes: bytes, quiet: 0.5)
        #expect(direct.starts(with: Array(String(repeating: "*1\r\n", count: 1000).utf8)), "redis-server answers it")
        #expect(proxied == direct)
        let summary = await rig.shutdown()
        #expect(summary.metrics.protocolErrors == 0)
    }

    @Test(
        "a client the proxy closes (protocol error, QUIT, max clients, a dropped pipeline) leaves no connection on the primary",
        arguments: [false, true])
    func noLeakedConnections(sharing: Bool) async throws {
        let rig = try await ShadowRig {
            $0.maxClients = 3
            $0.sharedConnections = sharing
            $0.sharedConnectionLinger = .milliseconds(200)
        }
        defer { rig.stop() }
        let admin = try rig.primary.client()
        func clients() async throws -> Int {
            try await admin.send(RESPCommand("CLIENT", "LIST")).text?.split(separator: "\n").count ?? -1
        }
        let before = try await clients()
        _ = try RawSocket.exchange(port: rig.port, bytes: Array("*1\r\n$-5\r\n".utf8))
        _ = try RawSocket.exchange(port: rig.port, bytes: Array("PING\r\n*x\r\n".utf8))
        _ = try RawSocket.exchange(port: rig.port, bytes: Array("QUIT\r\n".utf8))
        _ = try RawSocket.exchange(port: rig.port, bytes: Array("set \"unbalanced\r\n".utf8))
        // three held open, a fourth refused
        let held = (0..<3).compactMap { _ in RawSocket.connect(port: rig.port) }
        for fd in held { RawSocket.send(fd, Array("PING\r\n".utf8)) }
        try await Task.sleep(nanoseconds: 200_000_000)
        let refused = try RawSocket.exchange(port: rig.port, bytes: Array("PING\r\n".utf8))
        #expect(String(decoding: refused, as: UTF8.self).contains("max number of clients"))
        // Sharing: the three ride at most one shared connection per event loop.
        let open = try await clients() - before
        #expect(sharing ? (1...System.coreCount).contains(open) : open == 3, "\(open) primary connections for 3 clients")
        for fd in held { close(fd) }
        var after = -1
        // A shared connection nobody rides closes after its linger.
        for _ in 0..<100 {
            after = try await clients()
            if after == before { break }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        #expect(after == before, "connections left on the primary: \(after - before)")
        await admin.close()
    }

    @Test("SYNC through the proxy: a real replica syncs and follows the primary, and leaves nothing behind when it goes")
    func replicationPassesThrough() async throws {
        let rig = try await ShadowRig()
        defer { rig.stop() }
        let writer = try rig.client()
        #expect(try await writer.send(RESPCommand("SET", "before", "1")) == .ok)
        // redis-server waits 5 s for more replicas before a diskless sync by default
        #expect(try await writer.send(RESPCommand("CONFIG", "SET", "repl-diskless-sync-delay", 0)) == .ok)
        let replica = try await RedisServer(arguments: ["--replicaof", "127.0.0.1", "\(rig.port)"])
        let replicaClient = try replica.client()
        var synced = false
        for _ in 0..<100 {
            if try await replicaClient.send(RESPCommand("GET", "before")) == .bulk("1") {
                synced = true
                break
            }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        #expect(synced, "the replica loaded the primary's RDB through the proxy")
        #expect(try await writer.send(RESPCommand("SET", "after", "2")) == .ok)
        var followed = false
        for _ in 0..<100 {
            if try await replicaClient.send(RESPCommand("GET", "after")) == .bulk("2") {
                followed = true
                break
            }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        #expect(followed, "the replica follows the stream through the proxy")
        await replicaClient.close()
        replica.stop()
        let admin = try rig.primary.client()
        var replicas: Int64 = -1
        for _ in 0..<100 {
            let info = try await admin.send(RESPCommand("INFO", "replication")).text ?? ""
            replicas =
                info.split(separator: "\r\n").first { $0.hasPrefix("connected_slaves:") }.flatMap { Int64($0.split(separator: ":")[1]) }
                ?? -1
            if replicas == 0 { break }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        #expect(replicas == 0, "the replica's connection through the proxy is gone from the primary")
        await admin.close()
        await writer.close()
        let summary = await rig.shutdown()
        #expect(summary.metrics.mismatches[.diff] == nil)
        let records = try rig.records().filter { $0["class"] as? String == "not-mirrored" }
        #expect(records.contains { ($0["primary"] as? String)?.contains("replication stream") == true }, "\(records)")
    }
}
