import NIOCore
import RESP
import RedisClient
import TestSupport
import Testing

@Suite("Redis client against a real redis-server")
struct RedisClientTests {
    static let awkwardBytes: [[UInt8]] = [
        [0],
        [0, 0, 0],
        Array("a\r\nb".utf8),
        Array("\r\n".utf8),
        [0xFF, 0xFE, 0xC3, 0x28],
        Array("emoji 🚀 ключ".utf8),
        Array("/ ? # % &".utf8),
        [],
        Array(repeating: 0xAB, count: 1 << 20),
    ]

    @Test("binary keys and values survive SET/GET byte for byte")
    func binarySafe() async throws {
        try await withRedisServer { server in
            let client = try server.client()
            for (i, value) in Self.awkwardBytes.enumerated() {
                let key: [UInt8] = [0, UInt8(i), 0xFF, 13, 10] + value.prefix(16)
                #expect(try await client.send(RESPCommand("SET", key, value)) == .ok)
                #expect(try await client.send(RESPCommand("GET", key)) == .bulkString(value))
            }
            await client.close()
        }
    }

    @Test("a 10,000-command pipeline is answered in order")
    func bigPipeline() async throws {
        try await withRedisServer { server in
            let client = try server.client()
            let n = 10_000
            let writes = (0..<n).map { RESPCommand("RPUSH", "list", $0) }
            let replies = try await client.send(batch: writes)
            #expect(replies == (1...n).map { .integer(Int64($0)) })
            let reads = (0..<n).map { RESPCommand("LINDEX", "list", $0) }
            let values = try await client.send(batch: reads)
            #expect(values == (0..<n).map { .bulk(String($0)) })
            await client.close()
        }
    }

    @Test("error replies are values, not thrown, and keep Redis's text")
    func errorReplies() async throws {
        try await withRedisServer { server in
            let client = try server.client()
            _ = try await client.send(RESPCommand("SET", "s", "x"))
            let replies = try await client.send(batch: [RESPCommand("LPUSH", "s", "y"), RESPCommand("GET", "s")])
            #expect(replies[0].text?.hasPrefix("WRONGTYPE") == true)
            #expect(replies[1] == .bulk("x"))
            await client.close()
        }
    }

    @Test("AUTH with an ACL user and password")
    func aclUser() async throws {
        try await withRedisServer(arguments: ["--user", "default", "off", "--user", "alice", "on", ">s3cret", "~*", "+@all"]) { server in
            let client = try server.client("redis://alice:s3cret@127.0.0.1:\(server.port)")
            #expect(try await client.send(RESPCommand("ACL", "WHOAMI")) == .bulk("alice"))
            await client.close()
        }
    }

    @Test("a wrong password fails clearly, naming host:port and never the password")
    func wrongPassword() async throws {
        try await withRedisServer(arguments: ["--requirepass", "right-pass"]) { server in
            do throws(RedisClientError) {
                _ = try await RedisConnection.connect(to: RedisURL("redis://:wrong-pass-9f3@127.0.0.1:\(server.port)"))
                Issue.record("connected with a wrong password")
            } catch {
                #expect(error.kind == .authFailed)
                #expect(error.description.contains("127.0.0.1:\(server.port)"))
                #expect(!error.description.contains("wrong-pass-9f3"))
                #expect(error.description.contains("WRONGPASS") || error.description.contains("invalid"))
            }
            let ok = try server.client("redis://:right-pass@127.0.0.1:\(server.port)")
            #expect(try await ok.send(RESPCommand("PING")) == .simpleString(Array("PONG".utf8)))
            await ok.close()
        }
    }

    @Test("the URL's database is selected")
    func select() async throws {
        try await withRedisServer { server in
            let db3 = try server.client("redis://127.0.0.1:\(server.port)/3")
            _ = try await db3.send(RESPCommand("SET", "where", "three"))
            let db0 = try server.client()
            #expect(try await db0.send(RESPCommand("GET", "where")) == .null)
            let again = try server.client("redis://127.0.0.1:\(server.port)?db=3")
            #expect(try await again.send(RESPCommand("GET", "where")) == .bulk("three"))
            await db3.close()
            await db0.close()
            await again.close()
        }
    }

    @Test("a unix socket URL works")
    func unixSocket() async throws {
        try await withRedisServer { server in
            let client = try server.client("unix://\(server.socketPath)")
            #expect(try await client.send(RESPCommand("PING")) == .simpleString(Array("PONG".utf8)))
            await client.close()
        }
    }

    @Test("connection refused names host:port and hides the password")
    func refused() async throws {
        let port = try freePort()
        do throws(RedisClientError) {
            _ = try await RedisConnection.connect(to: RedisURL("redis://bob:hunter2-secret@127.0.0.1:\(port)"))
            Issue.record("connected to a closed port")
        } catch {
            #expect(error.kind == .connectionRefused)
            #expect(error.description.contains("127.0.0.1:\(port)"))
            #expect(!error.description.contains("hunter2-secret"))
        }
    }

    @Test("a server that stops answering gives a timeout naming host:port")
    func readTimeout() async throws {
        try await withRedisServer { server in
            let connection = try await RedisConnection.connect(
                to: RedisURL("redis://127.0.0.1:\(server.port)"), options: .init(readTimeout: .milliseconds(300)))
            server.pause()
            defer { server.resume() }
            do throws(RedisClientError) {
                _ = try await connection.send(RESPCommand("PING"))
                Issue.record("a paused server answered")
            } catch {
                #expect(error.kind == .timeout)
                #expect(error.description.contains("127.0.0.1:\(server.port)"))
            }
            await connection.close()
        }
    }

    @Test("SCAN visits every key once, with MATCH and TYPE")
    func scan() async throws {
        try await withRedisServer { server in
            let client = try server.client()
            _ = try await client.send(batch: (0..<2500).map { RESPCommand("SET", "s:\($0)", "v") })
            _ = try await client.send(batch: (0..<500).map { RESPCommand("RPUSH", "l:\($0)", "v") })
            var all: [[UInt8]] = []
            for try await page in client.scan(ScanOptions(count: 200)) { all += page.keys }
            #expect(Set(all).count == 3000)
            var lists: [[UInt8]] = []
            for try await page in client.scan(ScanOptions(count: 200, type: "list")) { lists += page.keys }
            #expect(Set(lists).count == 500)
            var matched: [[UInt8]] = []
            for try await page in client.scan(ScanOptions(match: Array("s:1*".utf8))) { matched += page.keys }
            #expect(Set(matched).count == 1111)
            await client.close()
        }
    }
}

@Suite("Redis URLs")
struct RedisURLTests {
    @Test(
        "parsing",
        arguments: [
            ("redis://127.0.0.1:6380", "127.0.0.1:6380", nil as String?, nil as String?, 0),
            ("redis://user:p%40ss@host:1/2", "host:1", "user", "p@ss", 2),
            ("redis://:secret@localhost", "localhost:6379", nil, "secret", 0),
            ("redis://secret@localhost:7000", "localhost:7000", nil, "secret", 0),
            ("redis://[::1]:6379/4", "[::1]:6379", nil, nil, 4),
            ("unix:///tmp/r.sock?db=5", "/tmp/r.sock", nil, nil, 5),
        ])
    func parse(_ text: String, _ endpoint: String, _ user: String?, _ pass: String?, _ db: Int) throws {
        let url = try RedisURL(text)
        #expect(url.endpoint == endpoint)
        #expect(url.username == user)
        #expect(url.password == pass)
        #expect(url.database == db)
        if let pass { #expect(!url.description.contains(pass)) }
    }

    @Test(
        "bad URLs are refused without echoing the password",
        arguments: ["http://x", "redis://:pw-77@host:notaport", "redis://h:99999", "nothing"])
    func bad(_ text: String) {
        do throws(RedisClientError) {
            _ = try RedisURL(text)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.kind == .invalidURL)
            #expect(!error.description.contains("pw-77"))
        }
    }
}
