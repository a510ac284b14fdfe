import JSON
import RESP
import Testing

@testable import UpstashClient

@Suite("encoding requests")
struct RequestEncodingTests {
    static let escapes: [([UInt8], String)] = [
        (Array("plain".utf8), "\"plain\""),
        (Array("say \"hi\"".utf8), "\"say \\\"hi\\\"\""),
        (Array("back\\slash".utf8), "\"back\\\\slash\""),
        (Array("line\nbreak\r\ttab".utf8), "\"line\\nbreak\\r\\ttab\""),
        ([0x01, 0x1F], "\"\\u0001\\u001f\""),
        (Array("é ☃ 😀".utf8), "\"é ☃ 😀\""),
        (Array("a/b".utf8), "\"a/b\""),
    ]

    @Test("JSON bodies escape what JSON needs and keep UTF-8 as is", arguments: escapes)
    func jsonEscapes(_ argument: [UInt8], _ expected: String) throws {
        let body = try #require(RequestEncoding.json(RESPCommand(arguments: [Array("SET".utf8), argument])))
        #expect(String(decoding: body, as: UTF8.self) == "[\"SET\",\(expected)]")
        // and the server reads back exactly the bytes sent
        #expect(try JSONParser.parse(body) == .array([.text("SET"), .string(argument)]))
    }

    @Test(
        "a command with a non-UTF-8 argument has no JSON form",
        arguments: [[0xFF], [0xC3], [0xED, 0xA0, 0x80], [0x61, 0x80]] as [[UInt8]])
    func noJSONForBinary(_ argument: [UInt8]) {
        #expect(RequestEncoding.json(RESPCommand("SET", "k", argument)) == nil)
    }

    static let segments: [([UInt8], String)] = [
        (Array("abcXYZ019-_~".utf8), "abcXYZ019-_~"),
        (Array("a/b".utf8), "a%2Fb"),
        (Array(".".utf8), "%2E"),
        (Array("..".utf8), "%2E%2E"),
        (Array("100%".utf8), "100%25"),
        (Array("a b?c#d&e=f+g".utf8), "a%20b%3Fc%23d%26e%3Df%2Bg"),
        ([0x00, 0xFF, 0x0D, 0x0A], "%00%FF%0D%0A"),
        (Array("é".utf8), "%C3%A9"),
        ([], ""),
    ]

    @Test("path segments are percent-encoded so any byte survives and no segment is special", arguments: segments)
    func percentEncoding(_ bytes: [UInt8], _ expected: String) {
        #expect(RequestEncoding.percentEncode(bytes) == expected)
    }

    @Test("the path form puts the last argument in the body, raw")
    func pathForm() {
        let value: [UInt8] = [0x00, 0xFF, 0x0D, 0x0A, 0x25]
        let (route, body) = RequestEncoding.pathForm(RESPCommand("SET", "user/1", value))
        #expect(route == "/SET/user%2F1")
        #expect(body == value)
    }

    @Test("a binary argument before the last one travels percent-encoded in the path")
    func pathFormEarlierBinary() {
        let (route, body) = RequestEncoding.pathForm(RESPCommand("SET", [0xFF, 0x00] as [UInt8], "v", "EX", "100"))
        #expect(route == "/SET/%FF%00/v/EX")
        #expect(body == Array("100".utf8))
    }

    @Test("an empty last argument, or a lone one, stays in the path")
    func pathFormEmptyLast() {
        let (route, body) = RequestEncoding.pathForm(RESPCommand("SET", [0xFF] as [UInt8], ""))
        #expect(route == "/SET/%FF/")
        #expect(body.isEmpty)
        let (lone, loneBody) = RequestEncoding.pathForm(RESPCommand(arguments: [[0xFF]]))
        #expect(lone == "/%FF")
        #expect(loneBody.isEmpty)
    }

    @Test("the batch body is the encoded commands in a JSON array, and its size is predicted exactly")
    func batchBody() throws {
        let encoded = try [RESPCommand("SET", "a", "1"), RESPCommand("INCR", "a")].map { try #require(RequestEncoding.json($0)) }
        let body = RequestEncoding.batch(encoded)
        #expect(String(decoding: body, as: UTF8.self) == "[[\"SET\",\"a\",\"1\"],[\"INCR\",\"a\"]]")
        #expect(RequestEncoding.batchSize(encoded.map(\.count).reduce(0, +), count: 2) == body.count)
    }
}
