import Foundation
import Logging
import RESP
import RedisClient
import Shadow
import TestSupport
import Testing

@Suite("shadow with a rediss:// primary")
struct TLSPrimaryTests {
    @Test("the proxy speaks TLS (with the URL's CA and password) to the primary, and mirrors as usual")
    func tlsPrimary() async throws {
        let certs = try TLSCertificates()
        try await withRedisServer(arguments: ["--requirepass", "pw-shadow-tls"], tls: certs) { primary in
            try await withRedisServer { target in
                let mirror = RedisClient(url: try RedisURL(target.url))
                let url = try RedisURL("rediss://:pw-shadow-tls@localhost:\(primary.port)?tls-ca=\(certs.caFile)")
                var logger = Logger(label: "test.shadow")
                logger.logLevel = .warning
                let proxy = try await ShadowProxy.start(
                    ShadowConfiguration(host: "127.0.0.1", port: 0, primary: url, readSample: 1), mirror: mirror, logger: logger)
                // The app logs in itself, as it did with Redis: the proxy lends nobody its own password.
                let app = RedisClient(url: try RedisURL("redis://:pw-shadow-tls@127.0.0.1:\(proxy.port)"))
                #expect(try await app.send(RESPCommand("SET", "via", [0, 0xFF])) == .ok)
                #expect(try await app.send(RESPCommand("GET", "via")) == .bulkString([0, 0xFF]))
                await app.close()
                let summary = await proxy.shutdown()
                #expect(summary.held)
                let direct = RedisClient(url: try RedisURL("unix://:pw-shadow-tls@\(primary.socketPath)"))
                #expect(try await direct.send(RESPCommand("GET", "via")) == .bulkString([0, 0xFF]))
                #expect(try await mirror.send(RESPCommand("GET", "via")) == .bulkString([0, 0xFF]))
                await direct.close()
                await mirror.close()
            }
        }
    }
}
