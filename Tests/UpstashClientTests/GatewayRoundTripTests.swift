import RESP
import RedisClient
import TestSupport
import Testing

@testable import UpstashClient

/// Binary values, pipelines, transactions and auth through the real gateway. Needs `upshift gateway`.
@Suite("gateway: round trips")
struct GatewayRoundTripTests {
    static let values: [(String, [UInt8])] = [
        ("NUL bytes", [0x00, 0x61, 0x00, 0x00]),
        ("invalid UTF-8", [0xFF, 0xFE, 0xC3, 0x28]),
        ("CRLF", Array("line\r\nnext\r\n".utf8)),
        ("a lone lead byte", [0xC3]),
        ("every byte value", (0...255).map(UInt8.init)),
        ("percent and slashes", [0x25, 0x2F, 0x2E, 0x2E, 0x2F, 0x3F, 0xFF]),
        ("200 KB of binary", (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }),
    ]

    @Test("binary values travel in the path form and come back byte for byte", arguments: values)
    func binaryValue(_ name: String, _ value: [UInt8]) async throws {
        let (client, prefix) = try await SharedGateway.client()
        defer { Task { await client.close() } }
        let key = Array((prefix + "bin").utf8)
        #expect(try await client.send(RESPCommand("SET", key, value)) == .ok)
        #expect(try await client.send(RESPCommand("GET", key)) == .bulkString(value))
        // and Redis itself holds exactly those bytes
        let gateway = try await SharedGateway.shared.gateway()
        let redis = try gateway.redis.client()
        #expect(try await redis.send(RESPCommand("GET", key)) == .bulkString(value))
        await redis.close()
    }

    @Test("binary keys and fields before the last argument travel percent-encoded")
    func binaryKeysAndFields() async throws {
        let (client, prefix) = try await SharedGateway.client()
        defer { Task { await client.close() } }
        let key = Array(prefix.utf8) + [0xFF, 0x2F, 0x00, 0x2E, 0x2E]
        let field: [UInt8] = [0x80, 0x0D, 0x0A]
        #expect(try await client.send(RESPCommand("HSET", key, field, "v", "plain", [0xFE] as [UInt8])) == .integer(2))
        #expect(try await client.send(RESPCommand("HGET", key, field)) == .bulk("v"))
        #expect(try await client.send(RESPCommand("HGET", key, "plain")) == .bulkString([0xFE]))
        #expect(try await client.send(RESPCommand("SET", key, [0xFF] as [UInt8], "EX", "100")) == .ok)
        #expect(try await client.send(RESPCommand("TTL", key)) == .integer(100))
        // an empty last argument after a binary one
        #expect(try await client.send(RESPCommand("SET", key, "")) == .ok)
        #expect(try await client.send(RESPCommand("STRLEN", key)) == .integer(0))
    }

    @Test("a pipeline keeps order, carries errors as values, and takes binary commands in its midst")
    func pipeline() async throws {
        let (client, prefix) = try await SharedGateway.client()
        defer { Task { await client.close() } }
        var batch: [RESPCommand] = [RESPCommand("SET", prefix + "s", "text")]
        for i in 0..<100 { batch.append(RESPCommand("INCR", prefix + "n\(i % 3)")) }
        batch.append(RESPCommand("LPUSH", prefix + "s", "x"))
        batch.append(RESPCommand("SET", prefix + "b", [0x00, 0xFF] as [UInt8]))
        batch.append(RESPCommand("GET", prefix + "b"))
        batch.append(RESPCommand("NOSUCHCOMMAND", "x"))
        let replies = try await client.send(batch: batch)
        #expect(replies.count == batch.count)
        #expect(replies[0] == .ok)
        for i in 0..<100 { #expect(replies[1 + i] == .integer(Int64(i / 3 + 1))) }
        #expect(replies[101].errorText?.starts(with: Array("WRONGTYPE".utf8)) == true)
        #expect(replies[102] == .ok)
        #expect(replies[103] == .bulkString([0x00, 0xFF]))
        #expect(replies[104].isError)
    }

    @Test("a batch over a small request size is split transparently; replies in order")
    func splitBatch() async throws {
        let (client, prefix) = try await SharedGateway.client(.init(maxRequestBytes: 1000))
        defer { Task { await client.close() } }
        let writes = (0..<300).map { RESPCommand("SET", prefix + "k\($0)", "value-\($0)") }
        #expect(try await client.send(batch: writes) == Array(repeating: .ok, count: 300))
        let reads = (0..<300).map { RESPCommand("GET", prefix + "k\($0)") }
        #expect(try await client.send(batch: reads) == (0..<300).map { .bulk("value-\($0)") })
    }

    @Test("multi-exec runs atomically and returns EXEC's array")
    func transaction() async throws {
        let (client, prefix) = try await SharedGateway.client()
        defer { Task { await client.close() } }
        let reply = try await client.transaction([
            RESPCommand("SET", prefix + "a", "1"), RESPCommand("INCR", prefix + "a"), RESPCommand("GET", prefix + "a"),
        ])
        #expect(reply == .array([.ok, .integer(2), .bulk("2")]))
    }

    @Test("a command failing inside a transaction is an error in EXEC's array; the others ran")
    func transactionRuntimeError() async throws {
        let (client, prefix) = try await SharedGateway.client()
        defer { Task { await client.close() } }
        let reply = try await client.transaction([
            RESPCommand("SET", prefix + "a", "text"), RESPCommand("INCR", prefix + "a"), RESPCommand("SET", prefix + "b", "2"),
        ])
        let elements = try #require(reply.array)
        #expect(elements.count == 3)
        #expect(elements[0] == .ok)
        #expect(elements[1].isError)
        #expect(elements[2] == .ok)
    }

    @Test("a transaction refused as a whole is one error value, and nothing in it ran")
    func transactionRefused() async throws {
        let (client, prefix) = try await SharedGateway.client()
        defer { Task { await client.close() } }
        let reply = try await client.transaction([RESPCommand("SET", prefix + "a", "1"), RESPCommand("SET", prefix + "only-key")])
        #expect(reply.isError)
        #expect(try await client.send(RESPCommand("EXISTS", prefix + "a")) == .integer(0))
    }

    @Test("many concurrent requests all land")
    func concurrent() async throws {
        let (client, prefix) = try await SharedGateway.client()
        defer { Task { await client.close() } }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<200 { group.addTask { _ = try await client.send(RESPCommand("INCR", prefix + "c")) } }
            try await group.waitForAll()
        }
        #expect(try await client.send(RESPCommand("GET", prefix + "c")) == .bulk("200"))
    }

    @Test("a wrong token is an auth error that names the host and not the token")
    func badToken() async throws {
        let (client, _) = try await SharedGateway.client(token: "not-the-token-8080")
        defer { Task { await client.close() } }
        let error = try #require(await upstashError { try await client.send(RESPCommand("PING")) })
        #expect(error.kind == .auth)
        #expect(error.status == 401)
        #expect(error.description.contains("WRONGPASS"))
        #expect(error.description.contains("127.0.0.1:"))
        #expect(!error.description.contains("not-the-token-8080"))
        #expect(!error.description.contains(SharedGateway.token))
    }
}
