import NIOCore
import NIOPosix
import RESP
import RedisClient
import TestSupport
import Testing

@Suite("TLS against a real redis-server with test certificates")
struct TLSTests {
    static let pong = RESPValue.simpleString(Array("PONG".utf8))

    @Test("PING, SET and GET of binary bytes over TLS, trusting the test CA")
    func roundTrip() async throws {
        let certs = try TLSCertificates()
        try await withRedisServer(arguments: ["--requirepass", "pw-tls-1"], tls: certs) { server in
            let client = RedisClient(url: try RedisURL("rediss://:pw-tls-1@localhost:\(server.port)?tls-ca=\(certs.caFile)"))
            #expect(try await client.send(RESPCommand("PING")) == Self.pong)
            let value: [UInt8] = [0, 13, 10, 0xFF] + Array(repeating: 0xAB, count: 300_000)
            #expect(try await client.send(RESPCommand("SET", [0xC3, 0x28], value)) == .ok)
            #expect(try await client.send(RESPCommand("GET", [0xC3, 0x28])) == .bulkString(value))
            await client.close()
        }
    }

    @Test("the certificate must name the host: by IP it fails, with --tls-server-name or by name it works")
    func hostName() async throws {
        let certs = try TLSCertificates()
        try await withRedisServer(tls: certs) { server in
            let error = await connectError("rediss://127.0.0.1:\(server.port)?tls-ca=\(certs.caFile)")
            #expect(error?.kind == .tlsFailed)
            #expect(error?.description.contains("does not name this host") == true)
            for url in [
                "rediss://localhost:\(server.port)?tls-ca=\(certs.caFile)",
                "rediss://127.0.0.1:\(server.port)?tls-ca=\(certs.caFile)&tls-server-name=localhost",
            ] {
                let connection = try await RedisConnection.connect(to: RedisURL(url))
                #expect(try await connection.send(RESPCommand("PING")) == Self.pong)
                await connection.close()
            }
        }
    }

    @Test("a certificate from another CA fails with one clear line and no password")
    func wrongCA() async throws {
        let certs = try TLSCertificates()
        try await withRedisServer(arguments: ["--requirepass", "hunter2-tls"], tls: certs) { server in
            for url in [
                "rediss://:hunter2-tls@localhost:\(server.port)?tls-ca=\(certs.otherCAFile)",
                "rediss://:hunter2-tls@localhost:\(server.port)",  // the system's CAs do not know the test CA either
            ] {
                let error = try #require(await connectError(url))
                #expect(error.kind == .tlsFailed)
                #expect(error.description.contains("localhost:\(server.port)"))
                #expect(error.description.contains("not signed by a trusted CA"))
                #expect(!error.description.contains("hunter2-tls"))
                #expect(!error.description.contains("\n"))
            }
        }
    }

    @Test("tls-insecure connects to a server whose CA is not trusted")
    func insecure() async throws {
        let certs = try TLSCertificates()
        try await withRedisServer(tls: certs) { server in
            let url = try RedisURL("rediss://127.0.0.1:\(server.port)?tls-insecure=true")
            #expect(url.tls?.verify == false)
            let connection = try await RedisConnection.connect(to: url)
            #expect(try await connection.send(RESPCommand("PING")) == Self.pong)
            await connection.close()
        }
    }

    @Test("mutual TLS: the client certificate gets in, no certificate is refused clearly")
    func mutualTLS() async throws {
        let certs = try TLSCertificates()
        try await withRedisServer(tls: certs, tlsAuthClients: true) { server in
            let withCert = try await RedisConnection.connect(to: RedisURL(server.url))
            #expect(try await withCert.send(RESPCommand("PING")) == Self.pong)
            await withCert.close()
            let error = try #require(await connectError("rediss://localhost:\(server.port)?tls-ca=\(certs.caFile)"))
            #expect(error.kind == .tlsFailed)
            #expect(error.description.contains("client certificate"))
        }
    }

    @Test("plaintext to a TLS port, and TLS to a plaintext port, fail clearly")
    func wrongProtocol() async throws {
        let certs = try TLSCertificates()
        try await withRedisServer(tls: certs) { server in
            let plain = await connectError("redis://127.0.0.1:\(server.port)", ping: true)
            #expect(plain != nil)
        }
        try await withRedisServer { server in
            let error = try #require(await connectError("rediss://127.0.0.1:\(server.port)?tls-insecure=true", timeout: .seconds(1)))
            #expect(error.description.contains("TLS port"))
        }
    }

    @Test("a bad CA file fails before connecting, naming the file")
    func badFiles() async throws {
        let error = await connectError("rediss://127.0.0.1:1?tls-ca=/nonexistent/ca.pem")
        #expect(error?.kind == .tlsFailed)
        #expect(error?.description.contains("/nonexistent/ca.pem") == true)
        let certs = try TLSCertificates()
        let halfPair = await connectError("rediss://127.0.0.1:1?tls-cert=\(certs.clientCertificate)")
        #expect(halfPair?.description.contains("--tls-key") == true)
    }

    @Test("RedisTLS.addHandler puts TLS under a caller's own bootstrap (as the shadow proxy does)")
    func ownBootstrap() async throws {
        let certs = try TLSCertificates()
        try await withRedisServer(tls: certs) { server in
            let url = try RedisURL(server.url)
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try RedisTLS.addHandler(to: channel, for: url)
                        try channel.pipeline.syncOperations.addHandler(FirstReply())
                    }
                }
                .connect(host: "127.0.0.1", port: server.port).get()
            try await channel.writeAndFlush(channel.allocator.buffer(string: "PING\r\n")).get()
            let reply = try await channel.pipeline.handler(type: FirstReply.self).flatMap { $0.reply.futureResult }.get()
            #expect(reply == "+PONG\r\n")
            try? await channel.close()  // redis-server hangs up without a TLS close_notify
        }
    }

    /// The error a connect (and, with `ping`, a first command) fails with, or nil when it works.
    private func connectError(_ url: String, ping: Bool = false, timeout: TimeAmount = .seconds(5)) async -> RedisClientError? {
        do throws(RedisClientError) {
            let connection = try await RedisConnection.connect(
                to: RedisURL(url), options: .init(connectTimeout: timeout, readTimeout: timeout))
            defer { Task { await connection.close() } }
            if ping { _ = try await connection.send(RESPCommand("PING")) }
            return nil
        } catch {
            return error
        }
    }
}

/// Collects the first bytes a raw connection receives.
private final class FirstReply: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let reply: EventLoopPromise<String>

    init() { reply = MultiThreadedEventLoopGroup.singleton.any().makePromise() }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        reply.succeed(String(buffer: unwrapInboundIn(data)))
    }

    func channelInactive(context: ChannelHandlerContext) {
        reply.fail(ChannelError.eof)
    }
}

@Suite("rediss:// URLs")
struct RedissURLTests {
    @Test("TLS settings ride in the query; ours and redis-py's names")
    func query() throws {
        let url = try RedisURL(
            "rediss://u:p@db.example.com:6380/2?tls-ca=%2Ftmp%2Fca.pem&tls-cert=/c.pem&tls-key=/k.pem&tls-server-name=x.example")
        #expect(url.tls == RedisTLS(caFile: "/tmp/ca.pem", certificateFile: "/c.pem", keyFile: "/k.pem", serverName: "x.example"))
        #expect(url.database == 2)
        #expect(url.description == "rediss://u:***@db.example.com:6380/2")
        let py = try RedisURL("rediss://h:1?ssl_cert_reqs=none&ssl_ca_certs=/ca.pem")
        #expect(py.tls == RedisTLS(caFile: "/ca.pem", verify: false))
        #expect(try RedisURL("rediss://h:1").tls == RedisTLS())
        #expect(try RedisURL("redis://h:1").tls == nil)
    }

    @Test(
        "TLS settings on a plaintext URL, or malformed, are refused", arguments: ["redis://h:1?tls-ca=/x", "rediss://h?tls-insecure=maybe"])
    func refused(_ text: String) {
        #expect(throws: RedisClientError.self) { try RedisURL(text) }
    }
}
