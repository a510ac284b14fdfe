import Testing

@testable import Gateway

/// The fast path's head reader: it frames what it is sure of and leaves the rest to NIO's parser.
@Suite struct GatewayRequestHeadTests {
    private func parse(_ text: String) -> RequestHead.Parse {
        Array(text.utf8).withUnsafeBytes { RequestHead.parse($0) }
    }

    @Test func aPathFormGetIsFramed() throws {
        let head = try #require(framed(parse("GET /get/k HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n\r\n")))
        #expect(head.method == .get)
        #expect(head.target == Array("/get/k".utf8))
        #expect(head.authorization == Array("Bearer t".utf8))
        #expect(head.contentLength == 0 && head.length == head.headLength && !head.close && !head.needsFullPath)
    }

    @Test func aBodyIsCountedAndHeaderNamesIgnoreCase() throws {
        let text = "POST / HTTP/1.1\r\ncontent-LENGTH:  11 \r\nupstash-encoding: base64\r\nConnection: close\r\n\r\n[\"GET\",\"k\"]"
        let head = try #require(framed(parse(text)))
        #expect(head.method == .post && head.contentLength == 11 && head.length == text.utf8.count)
        #expect(head.encoding == Array("base64".utf8) && head.close)
    }

    @Test func aHeadStillArrivingIsIncomplete() {
        #expect(parse("GET /get/k HTTP/1.1\r\nHost: x\r\n") == .incomplete)
        #expect(parse("GET /get/k HTTP/1.1\r\nHost: x\r\n\r") == .incomplete)
        #expect(parse("") == .incomplete)
    }

    @Test(arguments: [
        "GET /get/k HTTP/1.0\r\n\r\n",  // HTTP/1.0 keep-alive rules
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
        "GET /get/k HTTP/1.1\nHost: x\n\n",  // bare LF
        "GET /get/k HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
        "GET /get/k HTTP/1.1\r\nBad Name: x\r\n\r\n",
        "GET /get/k HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "GET /get/k HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        "GET /get/k HTTP/1.1\r\nContent-Length: 9999999999999999999\r\n\r\n",
        "GARBAGE\r\n\r\n",
        "GET /get/k HTTP/1.1\rX\r\n\r\n",
        "G(T /get/k HTTP/1.1\r\n\r\n",
    ])
    func whatItIsNotSureOfIsLeftToNIO(_ text: String) {
        #expect(parse(text) == .unframed)
    }

    @Test func aHugeHeadIsLeftToNIO() {
        #expect(parse("GET / HTTP/1.1\r\n" + String(repeating: "X: y\r\n", count: 20_000)) == .unframed)
        #expect(parse("GET / HTTP/1.1\r\n" + String(repeating: "X: y\r\n", count: 20_000) + "\r\n") == .unframed)
    }

    @Test func headersTheFastPathDoesNotServeSendTheRequestOn() throws {
        for extra in [
            "Upstash-Response-Format: resp2", "Expect: 100-continue", "Upgrade: h2c", "Connection: upgrade",
            "Authorization: Bearer a\r\nAuthorization: Bearer b",
        ] {
            let head = try #require(framed(parse("POST / HTTP/1.1\r\n\(extra)\r\n\r\n")))
            #expect(head.needsFullPath, "\(extra)")
        }
    }

    @Test func aTargetWithOtherBytesIsNotReadHere() throws {
        let raw: [UInt8] = Array("GET /get/".utf8) + [0xC3, 0xA9] + Array(" HTTP/1.1\r\n\r\n".utf8)
        let parsed = raw.withUnsafeBytes { RequestHead.parse($0) }
        #expect(try #require(framed(parsed)).target == nil)
        #expect(try #require(framed(parse("OPTIONS * HTTP/1.1\r\n\r\n"))).target == nil)
        #expect(try #require(framed(parse("PUT /set/k/v HTTP/1.1\r\n\r\n"))).method == .other)
    }

    private func framed(_ parse: RequestHead.Parse) -> RequestHead? {
        if case .head(let h) = parse { return h }
        return nil
    }
}
