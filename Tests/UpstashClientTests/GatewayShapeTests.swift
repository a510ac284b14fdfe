import RESP
import TestSupport
import Testing

@testable import UpstashClient

/// Every RESP reply shape through the real gateway and a real redis-server. Needs `upshift gateway`.
@Suite("gateway: reply shapes")
struct GatewayShapeTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let setup: @Sendable (String) -> [RESPCommand]
        let command: @Sendable (String) -> RESPCommand
        let expected: RESPValue
        var testDescription: String { name }
    }

    static func b(_ s: String) -> [UInt8] { Array(s.utf8) }

    static let cases: [Case] = [
        Case(name: "SET → OK status", setup: { _ in [] }, command: { RESPCommand("SET", $0 + "s", "v") }, expected: .ok),
        Case(
            name: "GET → bulk string", setup: { [RESPCommand("SET", $0 + "s", "hello")] }, command: { RESPCommand("GET", $0 + "s") },
            expected: .bulk("hello")),
        Case(
            name: "GET of a value that is literally OK", setup: { [RESPCommand("SET", $0 + "s", "OK")] },
            command: { RESPCommand("GET", $0 + "s") }, expected: .bulk("OK")),
        Case(name: "GET missing → null", setup: { _ in [] }, command: { RESPCommand("GET", $0 + "none") }, expected: .null),
        Case(
            name: "GET empty string", setup: { [RESPCommand("SET", $0 + "e", "")] }, command: { RESPCommand("GET", $0 + "e") },
            expected: .bulk("")),
        Case(
            name: "INCR → integer", setup: { [RESPCommand("SET", $0 + "n", "41")] }, command: { RESPCommand("INCR", $0 + "n") },
            expected: .integer(42)),
        Case(name: "negative integer", setup: { _ in [] }, command: { RESPCommand("DECRBY", $0 + "n", "5") }, expected: .integer(-5)),
        Case(
            name: "LRANGE → array", setup: { [RESPCommand("RPUSH", $0 + "l", "a", "b", "c")] },
            command: { RESPCommand("LRANGE", $0 + "l", "0", "-1") },
            expected: .array([.bulk("a"), .bulk("b"), .bulk("c")])),
        Case(name: "empty array", setup: { _ in [] }, command: { RESPCommand("LRANGE", $0 + "none", "0", "-1") }, expected: .array([])),
        Case(
            name: "HGETALL → flat array", setup: { [RESPCommand("HSET", $0 + "h", "f", "1")] },
            command: { RESPCommand("HGETALL", $0 + "h") },
            expected: .array([.bulk("f"), .bulk("1")])),
        Case(
            name: "ZRANGE WITHSCORES → scores as strings", setup: { [RESPCommand("ZADD", $0 + "z", "1.5", "m")] },
            command: { RESPCommand("ZRANGE", $0 + "z", "0", "-1", "WITHSCORES") }, expected: .array([.bulk("m"), .bulk("1.5")])),
        Case(
            name: "nested arrays with integers, strings and nulls", setup: { _ in [] },
            command: { _ in RESPCommand("EVAL", "return {1, {2, 'x', {false}}, 'y'}", "0") },
            expected: .array([.integer(1), .array([.integer(2), .bulk("x"), .array([.null])]), .bulk("y")])),
        Case(
            name: "an OK status nested in an array", setup: { _ in [] },
            command: { _ in RESPCommand("EVAL", "return {redis.status_reply('OK'), 'OK'}", "0") },
            expected: .array([.ok, .bulk("OK")])),
        Case(
            name: "an error nested in an array stays text", setup: { _ in [] },
            command: { _ in RESPCommand("EVAL", "return {7, redis.error_reply('ERR inner failure')}", "0") },
            expected: .array([.integer(7), .error(b("ERR inner failure"))])),
        // JSON cannot tell a status from a bulk string: statuses other than OK arrive as bulk strings.
        Case(name: "PING → PONG (as a bulk string)", setup: { _ in [] }, command: { _ in RESPCommand("PING") }, expected: .bulk("PONG")),
        Case(
            name: "TYPE → status text (as a bulk string)", setup: { [RESPCommand("SET", $0 + "s", "v")] },
            command: { RESPCommand("TYPE", $0 + "s") }, expected: .bulk("string")),
        Case(
            name: "text with JSON specials and non-ASCII", setup: { [RESPCommand("SET", $0 + "j", "\"q\" \\ / \n\t é ☃ 😀 \u{1}")] },
            command: { RESPCommand("GET", $0 + "j") }, expected: .bulk("\"q\" \\ / \n\t é ☃ 😀 \u{1}")),
        Case(
            name: "WRONGTYPE → error value", setup: { [RESPCommand("SET", $0 + "s", "v")] },
            command: { RESPCommand("LPUSH", $0 + "s", "x") },
            expected: .error(b("WRONGTYPE Operation against a key holding the wrong kind of value"))),
    ]

    @Test("each reply shape decodes exactly", arguments: cases)
    func shape(_ c: Case) async throws {
        let (client, prefix) = try await SharedGateway.client()
        defer { Task { await client.close() } }
        for s in c.setup(prefix) {
            let reply = try await client.send(s)
            #expect(!reply.isError, "setup \(s.name): \(reply)")
        }
        #expect(try await client.send(c.command(prefix)) == c.expected)
    }

    @Test("the same shapes in one pipeline, in order")
    func pipelineShapes() async throws {
        let (client, prefix) = try await SharedGateway.client()
        defer { Task { await client.close() } }
        var batch: [RESPCommand] = []
        var expectedAt: [(Int, RESPValue)] = []
        for (i, c) in Self.cases.enumerated() {
            let p = prefix + "\(i):"
            batch.append(contentsOf: c.setup(p))
            batch.append(c.command(p))
            expectedAt.append((batch.count - 1, c.expected))
        }
        let replies = try await client.send(batch: batch)
        #expect(replies.count == batch.count)
        for (index, expected) in expectedAt { #expect(replies[index] == expected, "\(batch[index].name)") }
    }

    @Test("the RESP2 response format keeps the exact reply types")
    func resp2Types() async throws {
        let (client, prefix) = try await SharedGateway.client()
        defer { Task { await client.close() } }
        let replies = try await client.sendRESP2(batch: [
            RESPCommand("PING"), RESPCommand("SET", prefix + "s", "v"), RESPCommand("TYPE", prefix + "s"), RESPCommand("GET", prefix + "s"),
            RESPCommand("INCR", prefix + "s"), RESPCommand("GET", prefix + "none"),
            RESPCommand("SET", prefix + "b", [0xFF, 0x00] as [UInt8]),
            RESPCommand("GET", prefix + "b"),
        ])
        #expect(
            replies == [
                .simpleString(Self.b("PONG")), .ok, .simpleString(Self.b("string")), .bulk("v"),
                .error(Self.b("ERR value is not an integer or out of range")), .null, .ok, .bulkString([0xFF, 0x00]),
            ])
        #expect(try await client.sendRESP2(RESPCommand("ECHO", "hi")) == .bulk("hi"))
    }
}
