import Foundation
import RESP
import RedisClient
import TestSupport
import Testing

@Suite("upshift: errors that say what to do")
struct ActionableErrorTests {
    @Test("a source that wants a password the URL lacks: 'the source needs a password', from every job that reads a source")
    func noPassword() async throws {
        try await withRedisServer(arguments: ["--requirepass", "pw-7781"]) { source in
            try await withRedisServer { target in
                let jobs: [[String]] = [
                    ["migrate", "--source", source.url, "--target", target.url],
                    ["migrate", "--source", source.url, "--dry-run"],
                    ["compare", "--source", source.url, "--target", target.url],
                    ["report", "--source", source.url],
                    ["verify", "--source", source.url, "--only", "cache"],
                ]
                for job in jobs {
                    let r = try runUpshift(job)
                    #expect(r.status != 0, "\(job)")
                    #expect(r.stderr.contains("the source needs a password"), "\(job): \(r.stderr)")
                    #expect(r.stderr.contains("127.0.0.1:\(source.port)"), "\(job): \(r.stderr)")
                    #expect(r.stderr.split(separator: "\n").count == 1, "\(job): \(r.stderr)")
                }
                let ok = try runUpshift(["migrate", "--source", "redis://:pw-7781@127.0.0.1:\(source.port)", "--dry-run"])
                #expect(ok.status == 0, "\(ok.stderr)")
            }
        }
    }

    @Test("a --target that is some other web server: 'this is not an Upstash REST endpoint', at once, not after retries")
    func notUpstash() async throws {
        try await withRedisServer { source in
            _ = try await source.client().send(RESPCommand("SET", "k", "v"))
            let web = try await FixtureProcess("foreign_http_server.py")
            defer { web.stop() }
            let port = web.port
            let started = Date()
            let r = try runUpshift(["migrate", "--source", source.url, "--target", "http://127.0.0.1:\(port)", "--token", "tk-2231"])
            #expect(r.status != 0)
            #expect(r.stderr.contains("this is not an Upstash REST endpoint"), "\(r.stderr)")
            #expect(!r.stderr.contains("retrying"), "\(r.stderr)")
            #expect(!r.stderr.contains("tk-2231"))
            #expect(Date().timeIntervalSince(started) < 10)
        }
    }
}
