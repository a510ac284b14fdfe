import RESP
import RedisClient
import TestSupport

/// Keyspaces for the report's tests, written into a real server, with the numbers the report must find.
enum Seed {
    static let longKey: [UInt8] = Array("long:".utf8) + Array(repeating: UInt8(ascii: "k"), count: 33_000)
    static let binaryKey: [UInt8] = [0xFF, 0xFE] + Array("bin".utf8)
    /// 100 MB + 16: over every small plan's largest record.
    static let hugeBytes = 100 * 1024 * 1024 + 16
    /// 11 MB: over the 10 MB request limit, under the record limit.
    static let bigBytes = 11 * 1024 * 1024

    // What `everyFinding` writes, counted.
    static let plainKeys = 20
    static let ttlKeys: [(prefix: String, seconds: Int, count: Int)] = [
        ("cache:minute", 30, 5), ("cache:hour", 1800, 4), ("cache:day", 7200, 3), ("cache:week", 3 * 86_400, 2),
    ]
    static let db3Keys = 4
    static let listLength = 1500
    /// Strings in db0: plain, TTL'd, the long key, the binary key, the non-UTF-8 value, the big and the huge value.
    static var db0Strings: Int { plainKeys + ttlKeys.reduce(0) { $0 + $1.count } + 5 }
    /// db0 strings plus list, hash, set, zset, stream.
    static var db0Keys: Int { db0Strings + 5 }
    static var totalKeys: Int { db0Keys + db3Keys }

    /// One of every finding: a key over 32 KB, a record over 100 MB, a value over 10 MB, a non-UTF-8
    /// key and value, keys in db 3, TTLs in every bucket, a cached script, a function library, and
    /// BLPOP, WATCH and SELECT in commandstats.
    static func everyFinding(_ server: RedisServer) async throws {
        let client = try server.client()
        var writes: [RESPCommand] = []
        for i in 0..<plainKeys { writes.append(RESPCommand("SET", "user:\(i)", "{\"name\":\"user \(i)\"}")) }
        for bucket in ttlKeys {
            for i in 0..<bucket.count { writes.append(RESPCommand("SET", "\(bucket.prefix):\(i)", "v", "EX", bucket.seconds)) }
        }
        writes.append(RESPCommand("SET", longKey, "v"))
        writes.append(RESPCommand("SET", binaryKey, "v"))
        writes.append(RESPCommand("SET", "blob:1", [0xC3, 0x28, 0xFF] as [UInt8]))
        // SETRANGE makes a big zero-filled value server-side without sending it over the wire.
        writes.append(RESPCommand("SETRANGE", "big:1", bigBytes - 1, "x"))
        writes.append(RESPCommand("SETRANGE", "huge:1", hugeBytes - 1, "x"))
        writes.append(RESPCommand("RPUSH", arguments: ["queue"] + (0...listLength).map { "job-\($0)" }))
        writes.append(RESPCommand("HSET", arguments: ["profile"] + (0..<10).flatMap { ["f\($0)", "v\($0)"] }))
        writes.append(RESPCommand("SADD", "tags", "a", "b", "c", "d", "e"))
        writes.append(RESPCommand("ZADD", "board", 1, "a", 2, "b", 3, "c"))
        writes.append(RESPCommand("XADD", "events", "*", "type", "login"))
        writes.append(RESPCommand("SCRIPT", "LOAD", "return redis.call('GET', KEYS[1])"))
        writes.append(
            RESPCommand("FUNCTION", "LOAD", "#!lua name=ratelimit\nredis.register_function('hit', function(keys, args) return 1 end)"))
        // One more element than listLength: BLPOP takes it, so commandstats counts a real BLPOP.
        writes.append(RESPCommand("BLPOP", "queue", 1))
        for reply in try await client.send(batch: writes) where reply.isError {
            throw TestSupportError("seeding failed: \(reply)")
        }
        await client.close()

        // WATCH needs its own connection state: a raw connection, not the pooled client.
        let raw = try await RedisConnection.connect(to: RedisURL(server.url))
        for reply in try await raw.send(batch: [RESPCommand("WATCH", "user:1"), RESPCommand("UNWATCH")]) where reply.isError {
            throw TestSupportError("WATCH failed: \(reply)")
        }
        await raw.close()

        // A client on db 3 sends exactly one SELECT when it connects.
        let db3 = try server.client(server.url + "/3")
        for i in 0..<db3Keys { _ = try await db3.send(RESPCommand("SET", "db3:key:\(i)", "v")) }
        await db3.close()
    }

    /// A keyspace with nothing in the way: plain keys in db 0, commands Upstash serves.
    static func clean(_ server: RedisServer) async throws {
        let client = try server.client()
        var writes: [RESPCommand] = []
        for i in 0..<50 { writes.append(RESPCommand("SET", "k:\(i)", "value \(i)")) }
        writes.append(RESPCommand("HSET", "h", "a", "1"))
        _ = try await client.send(batch: writes)
        await client.close()
    }
}
