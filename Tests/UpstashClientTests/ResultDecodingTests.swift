import JSON
import RESP
import Testing

@testable import UpstashClient

@Suite("decoding base64-encoded results")
struct ResultDecodingTests {
    static func b(_ s: String) -> [UInt8] { Array(s.utf8) }

    static let values: [(String, RESPValue)] = [
        ("\"T0s=\"", .bulkString(b("OK"))),  // a bulk string that holds "OK" is encoded like any other
        ("\"OK\"", .simpleString(b("OK"))),  // the one status reply sent as is
        ("null", .bulkString(nil)),
        ("42", .integer(42)),
        ("-7", .integer(-7)),
        ("9223372036854775807", .integer(Int64.max)),
        ("\"\"", .bulkString([])),
        ("\"UE9ORw==\"", .bulkString(b("PONG"))),
        ("\"AP8NCg==\"", .bulkString([0x00, 0xFF, 0x0D, 0x0A])),
        ("[]", .array([])),
        (
            "[\"YQ==\",[\"Yg==\",null,3,[\"OK\"]],\"OK\"]",
            .array([.bulk("a"), .array([.bulk("b"), .null, .integer(3), .array([.ok])]), .ok])
        ),
        // Error texts are never encoded: nested inside an EXEC or script reply they arrive as text.
        (
            "[\"T0s=\",\"ERR value is not an integer or out of range\"]",
            .array([.bulk("OK"), .error(b("ERR value is not an integer or out of range"))])
        ),
    ]

    @Test("results decode to exact RESP values at any depth", arguments: values)
    func decodes(_ json: String, _ expected: RESPValue) throws {
        let parsed = try JSONParser.parse(Array(json.utf8))
        #expect(try ResultDecoding.value(parsed) == expected)
    }

    @Test(
        "results RESP2 cannot hold are refused",
        arguments: ["\"not base64!\"", "1.5", "1e3", "true", "{\"a\":1}", "[true]", "99999999999999999999"])
    func refusesMalformed(_ json: String) throws {
        let parsed = try JSONParser.parse(Array(json.utf8))
        #expect(throws: ResultDecoding.Malformed.self) { try ResultDecoding.value(parsed) }
    }

    @Test("an error envelope keeps Redis's text verbatim, even when it looks like base64")
    func errorEnvelope() throws {
        let wrongType = "WRONGTYPE Operation against a key holding the wrong kind of value"
        let json = try JSONParser.parse(Array("{\"error\":\"\(wrongType)\"}".utf8))
        #expect(try ResultDecoding.envelope(json) == .error(Self.b(wrongType)))
        let lookalike = try JSONParser.parse(Array("{\"error\":\"T0s=\"}".utf8))
        #expect(try ResultDecoding.envelope(lookalike) == .error(Self.b("T0s=")))
    }

    @Test("a pipeline reply mixes results and errors, one per command, in order")
    func pipelineEnvelopes() throws {
        let json = try JSONParser.parse(Array("[{\"result\":\"OK\"},{\"error\":\"ERR boom\"},{\"result\":5},{\"result\":null}]".utf8))
        let values = try ResultDecoding.envelopes(json, count: 4)
        #expect(values == [.ok, .error(Self.b("ERR boom")), .integer(5), .null])
        #expect(throws: ResultDecoding.Malformed.self) { try ResultDecoding.envelopes(json, count: 3) }
        #expect(throws: ResultDecoding.Malformed.self) { try ResultDecoding.envelope(.object([])) }
    }

    @Test("every byte value survives base64 both ways")
    func allBytes() throws {
        let bytes = (0...255).map(UInt8.init) + [0, 13, 10, 0xC3]
        let json = JSONValue.string(Base64.encode(bytes))
        #expect(try ResultDecoding.value(json) == .bulkString(bytes))
    }
}
