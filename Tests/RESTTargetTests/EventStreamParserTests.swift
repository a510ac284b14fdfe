import RESP
import TestSupport
import Testing
import UpstashClient

@Suite("reading Upstash's subscription streams (server-sent events)")
struct EventStreamParserTests {
    private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test("events split anywhere across chunks; heartbeats, CRLF and other names' lines ignored; commas stay in the payload")
    func channelStream() throws {
        var p = EventStreamParser(kind: .subscribe, name: bytes("a,b"))
        let stream = bytes(": heartbeat\n\ndata: subscribe,a,b,1\r\n\r\ndata: message,a,b,x,y\n\ndata: message,other,z\n\n") + [0x64, 0x61]
        var events: [PubSubEvent] = []
        for chunk in stride(from: 0, to: stream.count, by: 3).map({ Array(stream[$0..<min($0 + 3, stream.count)]) }) {
            events += try p.feed(chunk)
        }
        #expect(events == [.subscribed, .message(channel: bytes("a,b"), payload: bytes("x,y"))])
        #expect(try p.feed(bytes("ta: message,a,b,") + [0, 255] + bytes("\n\n")) == [.message(channel: bytes("a,b"), payload: [0, 255])])
    }

    @Test("a pattern stream names the matching channel; data lines of one event join with a newline")
    func patternStream() throws {
        var p = EventStreamParser(kind: .psubscribe, name: bytes("ev:*"))
        #expect(
            try p.feed(bytes("data: psubscribe,ev:*,1\n\ndata: pmessage,ev:*,ev:1,line one\ndata: line two\n\n"))
                == [.subscribed, .message(channel: bytes("ev:1"), payload: bytes("line one\nline two"))])
    }

    @Test("an event past the size limit is a broken stream, not memory that keeps growing")
    func oversized() {
        var p = EventStreamParser(kind: .subscribe, name: bytes("c"), maxEventBytes: 1024)
        #expect(throws: EventStreamParser.Oversized.self) { try p.feed(bytes("data: message,c,") + Array(repeating: 120, count: 2000)) }
    }
}

@Suite("UpstashClient's subscription streams against the gateway")
struct EventStreamClientTests {
    @Test("a stream confirms, delivers what is published, and a wrong token is refused with the server's text")
    func subscribeThroughGateway() async throws {
        try await withRedisServer { redis in
            let gateway = try GatewayProcess(redis: redis)
            let client = try UpstashClient(url: gateway.url, token: gateway.token)
            var events = client.events(.subscribe, Array("c h".utf8)).makeAsyncIterator()
            #expect(try await events.next() == .subscribed)
            let publisher = try redis.client()
            #expect(try await publisher.send(RESPCommand("PUBLISH", "c h", "hi")) == .integer(1))
            #expect(try await events.next() == .message(channel: Array("c h".utf8), payload: Array("hi".utf8)))
            let wrong = try UpstashClient(url: gateway.url, token: "not-the-token")
            await #expect(throws: UpstashError.self) {
                for try await _ in wrong.events(.subscribe, Array("c".utf8)) {}
            }
            await publisher.close()
            await client.close()
            await wrong.close()
        }
    }
}
