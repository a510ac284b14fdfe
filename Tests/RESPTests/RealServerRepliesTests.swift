import RESP
import TestSupport
import Testing

/// What a real redis-server sends, RESP2 and RESP3, read by the one reader.
@Suite("RESP read from a real redis-server", .serialized)
struct RealServerRepliesTests {
    /// Commands whose RESP3 reply reads as the same RESP2-shaped value as its RESP2 reply: maps,
    /// sets, doubles, nulls, nesting on both sides of hiredis's depth 7.
    static let commands: [[String]] = [
        ["HGETALL", "h"], ["SMEMBERS", "s"], ["ZSCORE", "z", "a"], ["GET", "nope"], ["CONFIG", "GET", "maxmemory"],
        ["EXISTS", "h"], ["PING"], ["LRANGE", "l", "0", "-1"], ["HGET", "h", "nope"], ["WRONGCOMMAND"],
        ["EVAL", "local t = 1 for i = 1, 5 do t = {t} end return t", "0"],
        ["EVAL", "local t = 1 for i = 1, 40 do t = {t, 'x'} end return t", "0"],
    ]

    static func wire(_ commands: [[String]]) -> [UInt8] {
        var bytes: [UInt8] = []
        for c in commands { RESPSerializer.write(RESPCommand(arguments: c.map { Array($0.utf8) }), into: &bytes) }
        return bytes
    }

    static func frames(_ bytes: [UInt8]) throws -> [RESPFrame] {
        let parser = RESPParser()
        parser.feed(bytes)
        var out: [RESPFrame] = []
        while let f = try parser.nextFrame() { out.append(f) }
        return out
    }

    @Test("each reply framed byte for byte; RESP2 values re-serialize to the same bytes; RESP3 reads as RESP2 does")
    func repliesBothProtocols() async throws {
        try await withRedisServer { server in
            let setup = try server.client()
            for c in [
                RESPCommand("HSET", "h", "f", "v", "g", "w"), RESPCommand("SADD", "s", "m"), RESPCommand("ZADD", "z", "1.5", "a"),
                RESPCommand("RPUSH", "l", "x", "", "z"),
            ] {
                _ = try await setup.send(c)
            }
            await setup.close()
            var values: [[RESPValue]] = []
            for proto in ["2", "3"] {
                let raw = try RawSocket.exchange(port: server.port, bytes: Self.wire([["HELLO", proto]] + Self.commands), quiet: 0.3)
                let frames = try Self.frames(raw)
                #expect(frames.count == Self.commands.count + 1, "RESP\(proto)")
                #expect(frames.flatMap(\.bytes) == raw, "RESP\(proto): the frames are the stream, cut at reply boundaries")
                if proto == "2" {
                    for f in frames { #expect(RESPSerializer.encode(f.value) == f.bytes, "\(String(decoding: f.bytes, as: UTF8.self))") }
                }
                values.append(frames.dropFirst().map(\.value))
            }
            #expect(values[0] == values[1])
            #expect(values[0][0] == .array([.bulk("f"), .bulk("v"), .bulk("g"), .bulk("w")]))
            #expect(values[0][2] == .bulk("1.5"))
        }
    }

    @Test("RESP3 pub/sub messages are pushes, fed one byte at a time")
    func pushes() async throws {
        try await withRedisServer { server in
            let raw = try RawSocket.exchange(
                port: server.port, bytes: Self.wire([["HELLO", "3"], ["SUBSCRIBE", "ch"], ["PING"]]), quiet: 0.3)
            let parser = RESPParser()
            var frames: [RESPFrame] = []
            for b in raw {
                parser.feed([b])
                while let f = try parser.nextFrame() { frames.append(f) }
            }
            #expect(frames.count == 3)
            #expect(frames[1].isPush)
            #expect(frames[1].value == .array([.bulk("subscribe"), .bulk("ch"), .integer(1)]))
            #expect(!frames[2].isPush)
        }
    }
}
