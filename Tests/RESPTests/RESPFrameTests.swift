import RESP
import Testing

@Suite("RESP frames: RESP3, depth, pushes and exact bytes")
struct RESPFrameTests {
    static func deep(_ levels: Int) -> String { String(repeating: "*1\r\n", count: levels) + ":7\r\n" }

    @Test("the reader splits RESP2 and RESP3, deep nesting and pushes, and keeps the exact bytes")
    func mixedStream() throws {
        let parser = RESPParser()
        let deep = Self.deep(12)
        let stream = "+OK\r\n%1\r\n$1\r\nf\r\n,1.5\r\n>2\r\n$7\r\nmessage\r\n$2\r\nhi\r\n" + deep + "=8\r\ntxt:abcd\r\n#t\r\n_\r\n$3\r\nab"
        parser.feed(Array(stream.utf8))
        var frames: [RESPFrame] = []
        while let f = try parser.nextFrame() { frames.append(f) }
        #expect(frames.count == 7)
        #expect(frames[0].value == .ok)
        #expect(frames[1].value == .array([.bulk("f"), .bulk("1.5")]))
        #expect(frames[2].isPush)
        #expect(frames[2].value == .array([.bulk("message"), .bulk("hi")]))
        #expect(String(decoding: frames[3].bytes, as: UTF8.self) == deep)
        #expect(frames[4].value == .bulk("abcd"))
        #expect(frames[5].value == .integer(1))
        #expect(frames[6].value == .null)
        #expect(frames.map(\.bytes).joined().count == stream.utf8.count - "$3\r\nab".utf8.count)
        parser.feed(Array("c\r\n".utf8))
        #expect(try parser.next() == .bulk("abc"))
    }

    @Test("the same value whichever path builds it: hiredis up to depth 7, Swift past it", arguments: [1, 6, 7, 8, 9, 100, 1000])
    func depths(_ levels: Int) throws {
        let parser = RESPParser(limits: .init(maxDepth: 1000))
        parser.feed(Array(Self.deep(levels).utf8))
        var expected = RESPValue.integer(7)
        for _ in 0..<levels { expected = .array([expected]) }
        #expect(try parser.next() == expected)
        #expect(try parser.next() == nil)
    }

    @Test("RESP3 shapes come out as RESP2 would send them")
    func resp3Shapes() throws {
        let cases: [(String, RESPValue)] = [
            ("~2\r\n$1\r\na\r\n$1\r\nb\r\n", .array([.bulk("a"), .bulk("b")])),
            ("%0\r\n", .array([])),
            ("#f\r\n", .integer(0)),
            ("(3492890328409238509324850943850943825024385\r\n", .bulk("3492890328409238509324850943850943825024385")),
            ("!21\r\nSYNTAX invalid syntax\r\n", .error(Array("SYNTAX invalid syntax".utf8))),
            ("|1\r\n+key-popularity\r\n%0\r\n:5\r\n", .integer(5)),
            ("*2\r\n|1\r\n+a\r\n+b\r\n:1\r\n:2\r\n", .array([.integer(1), .integer(2)])),
            ("*-1\r\n", .array(nil)),
            ("$-1\r\n", .null),
            ("*3\r\n$-1\r\n*-1\r\n_\r\n", .array([.null, .array(nil), .null])),
        ]
        for (wire, value) in cases {
            let parser = RESPParser()
            parser.feed(Array(wire.utf8))
            #expect(try parser.next() == value, "\(wire.debugDescription)")
            #expect(RESPParser.value(ofFrame: wire) == value, "\(wire.debugDescription)")
        }
    }

    @Test("fed byte by byte, a RESP3 and a deep frame wait, then come whole")
    func incrementalRESP3() throws {
        let wire = "%2\r\n+a\r\n,1.5\r\n$1\r\nb\r\n" + Self.deep(9) + "*2\r\n$1\r\nx\r\n:1\r\n"
        let parser = RESPParser()
        var values: [RESPValue] = []
        for b in wire.utf8 {
            parser.feed([b])
            while let v = try parser.next() { values.append(v) }
        }
        var nested = RESPValue.integer(7)
        for _ in 0..<9 { nested = .array([nested]) }
        #expect(
            values == [.array([.simpleString(Array("a".utf8)), .bulk("1.5"), .bulk("b"), nested]), .array([.bulk("x"), .integer(1)])])
    }

    @Test("the caps hold on the RESP3 path too")
    func resp3Caps() {
        let tooDeep = RESPParser(limits: .init(maxDepth: 8))
        tooDeep.feed(Array(Self.deep(9).utf8))
        #expect(throws: RESPParseError.self) { try tooDeep.next() }
        let wideMap = RESPParser(limits: .init(maxArrayLength: 10))
        wideMap.feed(Array("%11\r\n".utf8))
        #expect(throws: RESPParseError.self) { try wideMap.next() }
        let longBlob = RESPParser(limits: .init(maxBulkLength: 4))
        longBlob.feed(Array("=9\r\n".utf8))
        #expect(throws: RESPParseError.self) { try longBlob.next() }
        let badInteger = RESPParser()
        badInteger.feed(Array("~1\r\n:1x\r\n".utf8))
        #expect(throws: RESPParseError.self) { try badInteger.next() }
    }

    @Test("the scanner tells each frame's end without building it, across chunks cut anywhere")
    func scannerChunks() throws {
        let frames = ["+OK\r\n", ">2\r\n$7\r\nmessage\r\n$2\r\nhi\r\n", Self.deep(2000), "$5\r\nhello\r\n", "|1\r\n+a\r\n+b\r\n#t\r\n"]
        let wire = Array(frames.joined().utf8)
        for cut in [1, 2, 3, 5, 7, 64] {
            var scanner = RESPFrameScanner()
            var ends: [Int] = []
            var pushes: [Bool] = []
            var offset = 0
            while offset < wire.count {
                let chunk = Array(wire[offset..<min(offset + cut, wire.count)])
                var at = 0
                while let f = try chunk.withUnsafeBytes({ raw throws(RESPParseError) in try scanner.next(raw, from: at) }) {
                    ends.append(offset + f.end)
                    pushes.append(f.isPush)
                    at = f.end
                }
                offset += chunk.count
            }
            var expected: [Int] = []
            var total = 0
            for f in frames {
                total += f.utf8.count
                expected.append(total)
            }
            #expect(ends == expected, "cut \(cut)")
            #expect(pushes == [false, true, false, false, false])
            #expect(scanner.atBoundary)
        }
    }

    @Test("the scanner tells an error reply by its own type, past any attribute before it")
    func scannerErrors() throws {
        let cases: [(String, Bool)] = [
            ("-ERR x\r\n", true), ("!3\r\nERR\r\n", true), ("|1\r\n+a\r\n-b\r\n-ERR x\r\n", true),
            ("|1\r\n+a\r\n-b\r\n+OK\r\n", false), ("*1\r\n-ERR x\r\n", false), ("+OK\r\n", false),
        ]
        for (wire, isError) in cases {
            var scanner = RESPFrameScanner()
            let frame = try Array(wire.utf8).withUnsafeBytes { raw throws(RESPParseError) in try scanner.next(raw, from: 0) }
            #expect(frame?.isError == isError, "\(wire.debugDescription)")
            #expect(frame?.end == wire.utf8.count)
        }
    }

    @Test("a frame of megabytes, fed in chunks, then small ones: each value whole")
    func largeFrames() throws {
        let big = [UInt8](repeating: 0x61, count: 3 << 20)
        let wire = RESPSerializer.encode(.array([.bulkString(big), .integer(1)])) + RESPSerializer.encode(.bulk("after"))
        let parser = RESPParser()
        var values: [RESPValue] = []
        var offset = 0
        while offset < wire.count {
            parser.feed(Array(wire[offset..<min(offset + 65536, wire.count)]))
            offset += 65536
            while let v = try parser.next() { values.append(v) }
        }
        #expect(values == [.array([.bulkString(big), .integer(1)]), .bulk("after")])
        parser.feed(Array(":2\r\n".utf8))
        #expect(try parser.next() == .integer(2))
    }

    @Test("value(ofFrame:) wants exactly one whole frame")
    func valueOfFrame() {
        #expect(RESPParser.value(ofFrame: ":1\r\n") == .integer(1))
        #expect(RESPParser.value(ofFrame: ":1\r\n:2\r\n") == nil)
        // The +OK and integer fast path holds to the same rule.
        #expect(RESPParser.value(ofFrame: "+OK\r\n") == .ok)
        #expect(RESPParser.value(ofFrame: "+OKx\r\n") == .simpleString(Array("OKx".utf8)))
        #expect(RESPParser.value(ofFrame: "+OKxy") == nil)
        #expect(RESPParser.value(ofFrame: ":12") == nil)
        #expect(RESPParser.value(ofFrame: "$3\r\nab") == nil)
        #expect(RESPParser.value(ofFrame: "?\r\n") == nil)
    }
}

extension RESPParser {
    fileprivate static func value(ofFrame text: String) -> RESPValue? {
        Array(text.utf8).withUnsafeBytes { value(ofFrame: $0) }
    }
}
