import RESP
import Testing

@Suite("requests framed as redis-server frames them")
struct RequestParserTests {
    static let inline: [(String, [String]?)] = [
        ("set \"q a\" \"x\\x41y\"", ["set", "q a", "xAy"]),
        ("set 'a\\'b' c", ["set", "a'b", "c"]),
        ("ECHO a\"b c\"", ["ECHO", "ab c"]),
        ("ECHO a\"b c\"d", nil),
        ("set \"abc", nil),
        ("set 'abc", nil),
        ("echo \"\\x4g\"", ["echo", "x4g"]),
        ("echo \"\\n\\t\\a\\b\\r\\z\"", ["echo", "\n\t\u{7}\u{8}\rz"]),
        ("echo 'a\\nb'", ["echo", "a\\nb"]),
        ("   PING   ", ["PING"]),
        ("echo ''", ["echo", ""]),
        ("ECHO \"a\"\"b\"", nil),
        ("", []),
    ]

    @Test("inline arguments follow sdssplitargs")
    func inlineArguments() {
        for (line, expected) in Self.inline {
            let got = Array(line.utf8).withUnsafeBytes { InlineArguments.split($0) }
            #expect(got?.map { String(decoding: $0, as: UTF8.self) } == expected, "\(line.debugDescription)")
        }
    }

    @Test("a multibulk command is framed once whole, wherever the bytes are cut")
    func multibulk() throws {
        let wire = Array("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n".utf8)
        for cut in 1..<wire.count {
            var parser = RequestParser(limits: .init(), authenticated: true)
            let early = try wire[0..<cut].withUnsafeBytes { raw throws(ProtocolFailure) in try parser.next(raw) }
            #expect(early == nil, "cut at \(cut)")
            let whole = try wire.withUnsafeBytes { raw throws(ProtocolFailure) in try parser.next(raw) }
            #expect(whole == .multibulk(length: wire.count, count: 3, name: 8..<11), "cut at \(cut)")
            let argv = wire.withUnsafeBytes { RequestParser.arguments($0, count: 3) }
            #expect(argv == [Array("SET".utf8), [UInt8(ascii: "k")], [UInt8(ascii: "v")]])
        }
    }

    @Test(
        "malformed requests fail with Redis's reason",
        arguments: [
            ("*1\r\n$-5\r\n", ProtocolFailure.invalidBulkLength), ("*x\r\n", .invalidMultibulkLength),
            ("*1\r\n+PING\r\n", .expectedDollar(UInt8(ascii: "+"))), ("*11\r\n", .unauthenticatedMultibulkLength),
            ("*1\r\n$16385\r\n", .unauthenticatedBulkLength),
        ])
    func malformed(_ wire: String, _ failure: ProtocolFailure) {
        var parser = RequestParser(limits: .init(), authenticated: false)
        #expect(throws: failure) { try Array(wire.utf8).withUnsafeBytes { raw throws(ProtocolFailure) in try parser.next(raw) } }
    }

    @Test("Redis's integers: no plus sign, no leading zero, 64 bits")
    func integers() {
        #expect(RedisInteger.parse(Array("-9223372036854775808".utf8)) == Int64.min)
        #expect(RedisInteger.parse(Array("9223372036854775807".utf8)) == Int64.max)
        for bad in ["", "+1", "01", "-0", "1 ", "9223372036854775808", "-"] {
            #expect(RedisInteger.parse(Array(bad.utf8)) == nil, "\(bad)")
        }
        #expect(RedisInteger.parse(Array("0".utf8)) == 0)
    }
}
