import RESP
import RedisClient
import TestSupport
import Testing

@Suite("upshift against rediss:// sources")
struct TLSCommandTests {
    @Test("ping trusts --tls-ca; another CA fails in one line without the password; --tls-insecure warns once and connects")
    func ping() async throws {
        let certs = try TLSCertificates()
        try await withRedisServer(arguments: ["--requirepass", "pw-cli-tls"], tls: certs) { server in
            let source = "rediss://:pw-cli-tls@localhost:\(server.port)"
            let ok = try runUpshift(["ping", "--source", source, "--tls-ca", certs.caFile])
            #expect(ok.status == 0, "\(ok.stderr)")
            #expect(ok.stdout.contains("PONG"))
            #expect(!ok.stdout.contains("pw-cli-tls"))

            let wrong = try runUpshift(["ping", "--source", source, "--tls-ca", certs.otherCAFile])
            #expect(wrong.status != 0)
            #expect(wrong.stderr.split(separator: "\n").count == 1, "\(wrong.stderr)")
            #expect(wrong.stderr.contains("trusted CA"))
            #expect(!wrong.stderr.contains("pw-cli-tls"))

            let insecure = try runUpshift(["ping", "--source", source, "--tls-insecure"])
            #expect(insecure.status == 0, "\(insecure.stderr)")
            let warnings = insecure.stderr.split(separator: "\n").filter { $0.contains("WARNING") }
            #expect(warnings.count == 1)
            #expect(warnings.first?.contains("verification is OFF") == true)
        }
    }

    @Test("mutual TLS from flags: --tls-cert/--tls-key get in, without them the refusal is explained")
    func mutual() async throws {
        let certs = try TLSCertificates()
        try await withRedisServer(tls: certs, tlsAuthClients: true) { server in
            let base = ["ping", "--source", "rediss://localhost:\(server.port)", "--tls-ca", certs.caFile]
            let ok = try runUpshift(base + ["--tls-cert", certs.clientCertificate, "--tls-key", certs.clientKey])
            #expect(ok.status == 0, "\(ok.stderr)")
            let refused = try runUpshift(base)
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("client certificate"), "\(refused.stderr)")
        }
    }

    @Test(
        "bad TLS flags are usage errors", arguments: [["--tls-ca", "/x.pem"], ["--tls-cert", "/nonexistent.pem", "--tls-key", "/k.pem"]])
    func badFlags(_ flags: [String]) throws {
        let plain = flags.first == "--tls-ca"
        let result = try runUpshift(["ping", "--source", plain ? "redis://127.0.0.1:1" : "rediss://127.0.0.1:1"] + flags)
        #expect(result.status == 64)
        #expect(result.stderr.contains(plain ? "rediss://" : "cannot read --tls-cert"), "\(result.stderr)")
    }

    @Test("migrate and compare from a rediss:// source with a password: the copy is exact")
    func migrate() async throws {
        let certs = try TLSCertificates()
        try await withRedisServer(arguments: ["--requirepass", "pw-mig"], tls: certs) { source in
            try await withRedisServer { target in
                let seed = RedisClient(url: try RedisURL("unix://:pw-mig@\(source.socketPath)"))
                _ = try await seed.send(batch: (0..<500).map { RESPCommand("SET", "k:\($0)", "v\($0)", "PX", 900_000) })
                _ = try await seed.send(batch: (0..<50).map { RESPCommand("HSET", "h:\($0)", "f", [0, 0xFF, 13, 10]) })
                let tls = ["--source", "rediss://:pw-mig@localhost:\(source.port)", "--tls-ca", certs.caFile, "--target", target.url]
                let migrated = try runUpshift(["migrate"] + tls)
                #expect(migrated.status == 0, "\(migrated.stderr)")
                #expect(migrated.stdout.contains("copied 550"))
                #expect(!migrated.stdout.contains("pw-mig") && !migrated.stderr.contains("pw-mig"))
                let compared = try runUpshift(["compare", "--rounds", "1"] + tls)
                #expect(compared.status == 0, "\(compared.stdout)\(compared.stderr)")
                let t = try target.client()
                #expect(try await keyspaceDifferences(seed, t).isEmpty)
                await seed.close()
                await t.close()
            }
        }
    }
}
