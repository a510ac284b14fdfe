import RESP
import RedisClient
import Testing

@testable import Shadow

@Suite("the connection state the proxy keeps for Upstash after the flip")
struct PooledConnectionStateTests {
    private func argv(_ words: String...) -> [[UInt8]] { words.map { Array($0.utf8) } }
    private func reply(_ text: String) -> PooledStep { .reply(Array(text.utf8)) }

    @Test(
        "subscriptions on a primary that streams them: confirmed in order with Redis's counts, PING and refusals while subscribed, UNSUBSCRIBE and RESET close the streams"
    )
    func subscriptions() {
        var s = PooledConnectionState(password: nil, streamsPubSub: true)
        let news = PooledSubscriptions.Name(kind: .subscribe, name: Array("news".utf8))
        let ev = PooledSubscriptions.Name(kind: .psubscribe, name: Array("ev:*".utf8))
        #expect(s.step(argv("SUBSCRIBE")) == reply("-ERR wrong number of arguments for 'subscribe' command\r\n"))
        #expect(s.step(argv("UNSUBSCRIBE")) == .unsubscribe(closing: [], reply: Array("*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n".utf8)))
        #expect(s.step(argv("GET", "k")) == .remote(RESPCommand("GET", "k")), "not subscribed yet: commands go to Upstash")
        #expect(s.step(argv("subscribe", "news")) == .subscribe([news]))
        #expect(s.confirmed(news) == Array("*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n".utf8))
        #expect(s.step(argv("PSUBSCRIBE", "ev:*")) == .subscribe([ev]))
        #expect(s.confirmed(ev) == Array("*3\r\n$10\r\npsubscribe\r\n$4\r\nev:*\r\n:2\r\n".utf8))
        #expect(s.confirmed(news) == Array("*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:2\r\n".utf8), "held already: the count stays")
        #expect(
            s.step(argv("GET", "k"))
                == reply(
                    "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"
                ))
        #expect(s.step(argv("PING")) == reply("*2\r\n$4\r\npong\r\n$0\r\n\r\n"))
        #expect(s.step(argv("PING", "hi")) == reply("*2\r\n$4\r\npong\r\n$2\r\nhi\r\n"))
        #expect(
            PooledSubscriptions.message(ev, channel: Array("ev:1".utf8), payload: [0, 255], resp3: false)
                == Array("*4\r\n$8\r\npmessage\r\n$4\r\nev:*\r\n$4\r\nev:1\r\n$2\r\n".utf8) + [0, 255, 13, 10])
        #expect(
            s.step(argv("UNSUBSCRIBE"))
                == .unsubscribe(closing: [news], reply: Array("*3\r\n$11\r\nunsubscribe\r\n$4\r\nnews\r\n:1\r\n".utf8)))
        #expect(s.step(argv("RESET")) == .unsubscribe(closing: [ev], reply: Array("+RESET\r\n".utf8)))
        #expect(s.step(argv("GET", "k")) == .remote(RESPCommand("GET", "k")), "out of subscribed mode")
        var cluster = PooledConnectionState(password: nil)
        if case .reply(let bytes) = cluster.step(argv("SUBSCRIBE", "c")) {
            #expect(bytes.first == UInt8(ascii: "-"), "a primary without streams still refuses it")
        } else {
            Issue.record("SUBSCRIBE was not refused without streams")
        }
    }

    @Test("MULTI queues, EXEC sends one transaction, DISCARD forgets, nesting and strays are errors")
    func transactions() {
        var s = PooledConnectionState(password: nil)
        #expect(s.step(argv("EXEC")) == reply("-ERR EXEC without MULTI\r\n"))
        #expect(s.step(argv("multi")) == reply("+OK\r\n"))
        #expect(s.step(argv("MULTI")) == reply("-ERR MULTI calls can not be nested\r\n"))
        #expect(s.step(argv("SET", "a", "1")) == reply("+QUEUED\r\n"))
        #expect(s.step(argv("INCR", "a")) == reply("+QUEUED\r\n"))
        #expect(s.step(argv("EXEC")) == .transaction([RESPCommand("SET", "a", "1"), RESPCommand("INCR", "a")]))
        #expect(!s.inTransaction)
        #expect(s.step(argv("MULTI")) == reply("+OK\r\n"))
        #expect(s.step(argv("DISCARD")) == reply("+OK\r\n"))
        #expect(s.step(argv("DISCARD")) == reply("-ERR DISCARD without MULTI\r\n"))
        #expect(s.step(argv("MULTI")) == reply("+OK\r\n"))
        #expect(s.step(argv("EXEC")) == reply("*0\r\n"))
    }

    @Test("a refused command inside MULTI aborts the transaction at EXEC, as Redis does")
    func refusedInsideTransaction() {
        var s = PooledConnectionState(password: nil)
        _ = s.step(argv("MULTI"))
        guard case .reply(let bytes) = s.step(argv("BLPOP", "q", "0")) else {
            Issue.record("BLPOP was not answered by the proxy")
            return
        }
        #expect(String(decoding: bytes, as: UTF8.self).hasPrefix("-ERR upshift: BLPOP is not served by Upstash over REST"))
        #expect(s.step(argv("SET", "a", "1")) == reply("+QUEUED\r\n"))
        #expect(s.step(argv("EXEC")) == reply("-EXECABORT Transaction discarded because of previous errors.\r\n"))
    }

    @Test("the handshake: AUTH against the old primary's password, HELLO 2 or 3, CLIENT SETNAME, SELECT 0")
    func handshake() {
        var s = PooledConnectionState(password: Array("pw".utf8))
        #expect(s.step(argv("AUTH", "pw")) == reply("+OK\r\n"))
        #expect(s.step(argv("AUTH", "default", "pw")) == reply("+OK\r\n"))
        #expect(s.step(argv("AUTH", "wrong")) == reply("-WRONGPASS invalid username-password pair or user is disabled.\r\n"))
        #expect(s.step(argv("HELLO", "4")) == reply("-NOPROTO sorry, this protocol version is not supported.\r\n"))
        guard case .reply(let hello3) = s.step(argv("HELLO", "3")) else {
            Issue.record("HELLO 3 was not answered by the proxy")
            return
        }
        #expect(hello3.starts(with: Array("%7\r\n$6\r\nserver\r\n".utf8)))
        #expect(s.resp3)
        #expect(
            s.step(argv("HELLO", "2", "AUTH", "default", "wrong"))
                == reply("-WRONGPASS invalid username-password pair or user is disabled.\r\n"))
        guard case .reply(let hello) = s.step(argv("HELLO", "2", "AUTH", "default", "pw", "SETNAME", "app")) else {
            Issue.record("HELLO was not answered by the proxy")
            return
        }
        #expect(hello.starts(with: Array("*14\r\n$6\r\nserver\r\n".utf8)))
        #expect(!s.resp3)
        #expect(s.step(argv("CLIENT", "SETNAME", "app")) == reply("+OK\r\n"))
        #expect(s.step(argv("SELECT", "0")) == reply("+OK\r\n"))
        #expect(s.step(argv("SELECT", "2")) == reply("-ERR upshift: the primary has a single database 0\r\n"))
        #expect(s.step(argv("QUIT")) == .replyAndClose(Array("+OK\r\n".utf8)))
        var open = PooledConnectionState(password: nil)
        #expect(open.step(argv("AUTH", "anything")) == reply("+OK\r\n"))
    }

    @Test("a cluster primary refuses only what needs a connection of its own; admin commands go through")
    func clusterRefusals() throws {
        let primary = PooledPrimary.cluster(RedisClient(url: try RedisURL("redis://127.0.0.1:1")))
        var s = PooledConnectionState(password: nil, refusal: primary.refusal)
        for blocked in [argv("BLPOP", "q", "0"), argv("SUBSCRIBE", "c"), argv("WATCH", "k")] {
            guard case .reply(let bytes) = s.step(blocked) else {
                Issue.record("\(blocked) was sent to the cluster")
                continue
            }
            #expect(String(decoding: bytes, as: UTF8.self).contains("needs a connection of its own"))
        }
        #expect(s.step(argv("CONFIG", "GET", "maxmemory")) == .remote(RESPCommand("CONFIG", "GET", "maxmemory")))
        #expect(s.step(argv("XREAD", "STREAMS", "s", "0")) == .remote(RESPCommand("XREAD", "STREAMS", "s", "0")))
    }

    @Test("what Upstash serves goes to Upstash untouched, binary arguments included")
    func remote() {
        var s = PooledConnectionState(password: nil)
        let binary: [[UInt8]] = [Array("SET".utf8), [0xFF, 0x00], [0xFE]]
        #expect(s.step(binary) == .remote(RESPCommand(arguments: binary)))
        #expect(s.step(argv("PING")) == .remote(RESPCommand("PING")))
        #expect(s.step(argv("EVALSHA", "abc", "0")) == .remote(RESPCommand("EVALSHA", "abc", "0")))
    }
}
