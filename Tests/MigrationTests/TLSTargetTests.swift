import Foundation
import RESP
import RedisClient
import TestSupport
import Testing

@Suite("migrate into a rediss:// target (Upstash's RESP endpoint, played by a TLS redis-server)")
struct TLSTargetTests {
    @Test("every type, binary keys, big keys in chunks and absolute expiry arrive identical; --token is the password; compare is clean")
    func migrateAndCompare() async throws {
        let certs = try TLSCertificates()
        try await withRedisServer { source in
            try await withRedisServer(arguments: ["--requirepass", "tok-resp-9"], tls: certs) { target in
                let s = try source.client()
                try await seedEveryType(s)
                let big = (0..<30_000).map { RESPCommand("RPUSH", "big:list", "item-\($0)") }
                _ = try await s.send(batch: big)
                let url = "rediss://localhost:\(target.port)?tls-ca=\(certs.caFile)"
                let args = ["--source", source.url, "--target", url, "--token", "tok-resp-9"]
                let migrated = try runUpshift(["migrate", "--batch", "50"] + args)
                #expect(migrated.status == 0, "\(migrated.stderr)")
                #expect(migrated.stdout.contains("copied 316"), "\(migrated.stdout)")
                #expect(!(migrated.stdout + migrated.stderr).contains("tok-resp-9"))
                let compared = try runUpshift(["compare", "--rounds", "1"] + args)
                #expect(compared.status == 0, "\(compared.stdout)\(compared.stderr)")
                #expect(!(compared.stdout + compared.stderr).contains("tok-resp-9"))
                let t = RedisClient(url: try RedisURL("unix://:tok-resp-9@\(target.socketPath)"))
                let diffs = try await keyspaceDifferences(s, t, ttlToleranceMs: 0)
                #expect(diffs.isEmpty, "\(diffs.prefix(5))")
                await s.close()
                await t.close()
            }
        }
    }

    @Test("a wrong token on a rediss:// target fails in one line without the token")
    func wrongToken() async throws {
        let certs = try TLSCertificates()
        try await withRedisServer(arguments: ["--requirepass", "right-token"], tls: certs) { target in
            let url = "rediss://localhost:\(target.port)?tls-ca=\(certs.caFile)"
            let result = try runUpshift(["ping", "--target", url, "--token", "wrong-token-55"])
            #expect(result.status != 0)
            #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
            #expect(!result.stderr.contains("wrong-token-55"))
            let ok = try runUpshift(["ping", "--target", url, "--token", "right-token"])
            #expect(ok.status == 0, "\(ok.stderr)")
            #expect(ok.stdout.contains("target rediss://default:***@localhost:\(target.port): PONG"))
        }
    }
}
