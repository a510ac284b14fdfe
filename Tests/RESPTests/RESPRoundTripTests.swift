import RESP
import Testing

@Suite("RESP round trips")
struct RESPRoundTripTests {
    static let values: [RESPValue] = [
        .simpleString(Array("OK".utf8)),
        .simpleString([]),
        // Read without hiredis when exactly OK; these look like it and are not.
        .simpleString(Array("OKAY".utf8)),
        .simpleString(Array("OK ".utf8)),
        .error(Array("ERR wrong number of arguments".utf8)),
        .error(Array("WRONGTYPE Operation against a key holding the wrong kind of value".utf8)),
        .integer(0),
        .integer(-1),
        .integer(Int64.max),
        .integer(Int64.min),
        .integer(42),
        .bulkString([]),
        .bulkString(Array("hello".utf8)),
        .bulkString([0, 13, 10, 0xFF, 0xFE, 0x80]),
        .bulkString(Array("héllo 🚀".utf8)),
        .bulkString(nil),
        .array([]),
        .array(nil),
        .array([.integer(1), .bulkString(nil), .array(nil), .bulk("x")]),
        .array([.array([.array([.bulk("deep")])]), .error(Array("ERR inner".utf8))]),
    ]

    @Test("serialize then parse gives the same value", arguments: values)
    func roundTrip(_ value: RESPValue) throws {
        let bytes = RESPSerializer.encode(value)
        let parser = RESPParser()
        parser.feed(bytes)
        #expect(try parser.next() == value)
        #expect(try parser.next() == nil)
    }

    @Test("byte by byte feeding waits, then yields", arguments: values)
    func incremental(_ value: RESPValue) throws {
        let bytes = RESPSerializer.encode(value)
        let parser = RESPParser()
        for (i, b) in bytes.enumerated() {
            parser.feed([b])
            let got = try parser.next()
            if i < bytes.count - 1 {
                #expect(got == nil, "complete too early at byte \(i)")
            } else {
                #expect(got == value)
            }
        }
    }

    @Test("wire forms are exactly Redis's")
    func wireForms() {
        #expect(RESPSerializer.encode(.ok) == Array("+OK\r\n".utf8))
        #expect(RESPSerializer.encode(.null) == Array("$-1\r\n".utf8))
        #expect(RESPSerializer.encode(.array(nil)) == Array("*-1\r\n".utf8))
        #expect(RESPSerializer.encode(.integer(-5)) == Array(":-5\r\n".utf8))
        #expect(
            RESPSerializer.encode(RESPCommand("SET", "k", [0, 1] as [UInt8])) == Array("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n".utf8) + [
                0, 1, 13, 10,
            ])
    }

    @Test(
        "encodedSize matches the serialized length",
        arguments: [
            RESPCommand("PING"), RESPCommand("SET", "key", String(repeating: "v", count: 1234)),
            RESPCommand(arguments: Array(repeating: [], count: 11)),
        ])
    func encodedSize(_ command: RESPCommand) {
        #expect(command.encodedSize == RESPSerializer.encode(command).count)
    }

    @Test("many values in one feed come out in order")
    func pipelinedValues() throws {
        var bytes: [UInt8] = []
        for i in 0..<1000 { RESPSerializer.write(.integer(Int64(i)), into: &bytes) }
        let parser = RESPParser()
        parser.feed(bytes)
        let values = try parser.drain()
        #expect(values == (0..<1000).map { .integer(Int64($0)) })
    }
}

@Suite("RESP malformed and hostile input")
struct RESPMalformedTests {
    static let malformed: [String] = [
        "?what\r\n",
        "GET foo\r\n",
        ":12x\r\n",
        "$abc\r\n",
        "*x\r\n",
    ]

    @Test("malformed input throws a clear error", arguments: malformed)
    func malformedInput(_ text: String) {
        let parser = RESPParser()
        parser.feed(Array(text.utf8))
        #expect(throws: RESPParseError.self) { try parser.next() }
        // the parser stays failed: a desynchronised stream is never read on
        #expect(throws: RESPParseError.self) { try parser.next() }
        parser.feed(Array(repeating: 0x2B, count: 70_000) + Array("+OK\r\n".utf8))
        #expect(throws: RESPParseError.self) { try parser.next() }
    }

    @Test("a declared bulk length over the cap is refused before any payload arrives")
    func bulkCap() throws {
        let parser = RESPParser(limits: .init(maxBulkLength: 1024))
        parser.feed(Array("$1025\r\n".utf8))
        do {
            _ = try parser.next()
            Issue.record("expected a limit error")
        } catch {
            #expect(error.isLimit)
            #expect(error.description.contains("1025"))
        }
        let ok = RESPParser(limits: .init(maxBulkLength: 1024))
        ok.feed(Array("$1024\r\n".utf8) + Array(repeating: 0x61, count: 1024) + [13, 10])
        #expect(try ok.next() == .bulkString(Array(repeating: 0x61, count: 1024)))
    }

    @Test("a bulk length that overflows 64 bits is refused")
    func bulkOverflow() {
        let parser = RESPParser()
        parser.feed(Array("$99999999999999999999999\r\n".utf8))
        #expect(throws: RESPParseError.self) { try parser.next() }
    }

    @Test("an array longer than the cap is refused without allocating it")
    func arrayCap() throws {
        let parser = RESPParser(limits: .init(maxArrayLength: 10))
        parser.feed(Array("*2000000000\r\n".utf8))
        do {
            _ = try parser.next()
            Issue.record("expected a limit error")
        } catch {
            #expect(error.isLimit)
        }
    }

    @Test("nesting deeper than the cap is refused")
    func depthCap() throws {
        let parser = RESPParser(limits: .init(maxDepth: 2))
        parser.feed(Array("*1\r\n*1\r\n*1\r\n:1\r\n".utf8))
        #expect(throws: RESPParseError.self) { try parser.next() }
        let ok = RESPParser(limits: .init(maxDepth: 2))
        ok.feed(Array("*1\r\n*1\r\n:1\r\n".utf8))
        #expect(try ok.next() == .array([.array([.integer(1)])]))
    }

    @Test("a line that never ends is refused once past the line cap")
    func lineCap() {
        let parser = RESPParser(limits: .init(maxLineLength: 100))
        parser.feed(Array(("+" + String(repeating: "a", count: 200)).utf8))
        #expect(throws: RESPParseError.self) { try parser.next() }
    }

    @Test("incomplete input waits for more bytes", arguments: ["*2\r\n$3\r\nfoo\r\n", "$5\r\nhel", "+OK", ":1", "*1\r\n"])
    func incomplete(_ text: String) throws {
        let parser = RESPParser()
        parser.feed(Array(text.utf8))
        #expect(try parser.next() == nil)
    }
}
