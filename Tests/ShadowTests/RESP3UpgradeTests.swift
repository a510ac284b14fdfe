import Foundation
import RESP
import TestSupport
import Testing

@testable import Shadow

#if canImport(Glibc)
    import Glibc
#endif

/// A blocking RESP connection that returns each reply's exact bytes: to see what a real Redis
/// sends a RESP3 client.
private final class RawConnection {
    private let fd: Int32
    private let reader = RESPParser()

    init(port: Int, resp3: Bool) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw TestSupportError("cannot connect to 127.0.0.1:\(port)") }
        if resp3 { _ = try exchange(["HELLO", "3"]) }
    }

    deinit { close(fd) }

    func exchange(_ words: [String]) throws -> [UInt8] {
        var bytes: [UInt8] = []
        RESPSerializer.write(RESPCommand(arguments: words.map { Array($0.utf8) }), into: &bytes)
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            if let reply = try reader.nextFrame() { return reply.bytes }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw TestSupportError("connection closed") }
            reader.feed(Array(chunk[0..<n]))
        }
    }
}

@Suite("RESP2 replies upgraded to RESP3 exactly as Redis types them")
struct RESP3UpgradeTests {
    /// Commands whose replies are deterministic on this data; each is sent once per protocol.
    /// (XINFO CONSUMERS reports idle milliseconds, which move between the two calls: its shape is checked below.)
    static let commands: [[String]] = [
        ["HGETALL", "h"], ["HGETALL", "missing"], ["SMEMBERS", "s"], ["SINTER", "s", "s2"], ["SUNION", "s", "s2"], ["SDIFF", "s", "s2"],
        ["ZSCORE", "z", "a"], ["ZSCORE", "z", "nope"], ["ZINCRBY", "z", "0", "a"], ["ZADD", "z", "INCR", "0", "a"],
        ["ZMSCORE", "z", "a", "nope"], ["ZRANGE", "z", "0", "-1", "WITHSCORES"], ["ZRANGE", "z", "0", "-1"],
        ["ZREVRANGE", "z", "0", "-1", "WITHSCORES"], ["ZRANGEBYSCORE", "z", "-inf", "+inf", "WITHSCORES"],
        ["ZREVRANGEBYSCORE", "z", "+inf", "-inf", "WITHSCORES"], ["ZUNION", "2", "z", "z", "WITHSCORES"], ["ZINTER", "1", "z"],
        ["ZRANDMEMBER", "one", "1", "WITHSCORES"], ["HRANDFIELD", "h1", "1", "WITHVALUES"], ["GEOPOS", "geo", "pal", "nowhere"],
        ["XREAD", "STREAMS", "st", "0"], ["XREAD", "STREAMS", "st", "$"], ["XINFO", "STREAM", "st"], ["XINFO", "GROUPS", "st"],
        ["XRANGE", "st", "-", "+"], ["GET", "nope"], ["MGET", "str", "nope"], ["LPOP", "nope", "2"],
        ["GET", "str"], ["INCRBYFLOAT", "f", "0"], ["HINCRBYFLOAT", "h", "n", "0"], ["EXISTS", "h"], ["TYPE", "z"],
        ["LRANGE", "l", "0", "-1"],
        ["HMGET", "h", "f", "nope"], ["EVAL", "return {1, 'a', {2}}", "0"],
    ]

    @Test("every listed command: upgrade(RESP2 reply) == the RESP3 reply of a real redis-server")
    func matchesRedis() async throws {
        try await withRedisServer { server in
            let setup = try server.client()
            for c in [
                RESPCommand("HSET", "h", "f", "v", "g", "w", "n", "1.5"), RESPCommand("HSET", "h1", "only", "one"),
                RESPCommand("SADD", "s", "a", "b", "c"), RESPCommand("SADD", "s2", "b", "x"),
                RESPCommand("ZADD", "z", "1.5", "a", "2", "b", "-3", "c"),
                RESPCommand("ZADD", "one", "7.25", "m"), RESPCommand("GEOADD", "geo", "13.36", "38.11", "pal"),
                RESPCommand("XADD", "st", "1-1", "a", "1"), RESPCommand("XGROUP", "CREATE", "st", "g", "0"),
                RESPCommand("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "st", ">"), RESPCommand("SET", "str", "v"),
                RESPCommand("SET", "f", "2.5"), RESPCommand("RPUSH", "l", "x", "y"),
            ] {
                _ = try await setup.send(c)
            }
            await setup.close()
            let two = try RawConnection(port: server.port, resp3: false)
            let three = try RawConnection(port: server.port, resp3: true)
            for words in Self.commands {
                let argv = words.map { Array($0.utf8) }
                let reader = RESPParser()
                reader.feed(try two.exchange(words))
                let resp2 = try #require(try reader.next())
                var upgraded: [UInt8] = []
                RESP3Upgrade.encode(resp2, to: argv, into: &upgraded)
                let expected = try three.exchange(words)
                #expect(
                    String(decoding: upgraded, as: UTF8.self) == String(decoding: expected, as: UTF8.self),
                    "\(words.joined(separator: " "))")
            }
        }
    }

    @Test("the shapes that change, and a transaction's replies upgraded one by one")
    func shapes() {
        #expect(RESP3Upgrade.shape(of: [Array("zpopmin".utf8), Array("z".utf8)]) == .memberScore)
        #expect(RESP3Upgrade.shape(of: [Array("ZPOPMIN".utf8), Array("z".utf8), Array("2".utf8)]) == .scorePairs)
        #expect(RESP3Upgrade.shape(of: [Array("SPOP".utf8), Array("s".utf8)]) == .plain)
        #expect(RESP3Upgrade.shape(of: [Array("SET".utf8)]) == .plain)
        let consumers: RESPValue = .array([.array([.bulk("name"), .bulk("c1"), .bulk("pending"), .integer(1), .bulk("idle"), .integer(3)])])
        var maps: [UInt8] = []
        RESP3Upgrade.encode(consumers, to: ["XINFO", "CONSUMERS", "st", "g"].map { Array($0.utf8) }, into: &maps)
        #expect(
            String(decoding: maps, as: UTF8.self) == "*1\r\n%3\r\n$4\r\nname\r\n$2\r\nc1\r\n$7\r\npending\r\n:1\r\n$4\r\nidle\r\n:3\r\n")
        let exec = RESPSerializer.encode(.array([.bulk("1.5"), .array([.bulk("f"), .bulk("v")])]))
        let upgraded = PooledLink.upgrade(exec, [RESPCommand("ZSCORE", "z", "a"), RESPCommand("HGETALL", "h")], transaction: true)
        #expect(String(decoding: upgraded, as: UTF8.self) == "*2\r\n,1.5\r\n%1\r\n$1\r\nf\r\n$1\r\nv\r\n")
    }
}
