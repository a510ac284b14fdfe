import Foundation
import RESP
import RedisClient
import TestSupport
import Testing

/// `upshift shadow` started as a process; stopped with SIGINT (its graceful path) by `stop()`.
private final class ShadowProcess {
    let process = Process()
    let port: Int
    private let errors = Pipe()

    init(_ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: try upshiftBinary())
        process.arguments = ["shadow", "--listen", "127.0.0.1:0"] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = errors
        try process.run()
        reapWhenTestsDie(process.processIdentifier)
        let (found, seen) = announcedPort(out, of: process, after: "shadow listening on 127.0.0.1:", then: "\n")
        guard let found else {
            process.terminate()
            throw TestSupportError("the proxy did not start: \(seen)")
        }
        port = found
    }

    /// Stops it and returns what it printed on stderr (its summary).
    func stop() -> String {
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        return String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }
}

@Suite("upshift shadow from the command line", .serialized)
struct ShadowCommandTests {
    @Test("a RESP target whose URL has no password logs in with --token (Upstash's rediss://default:TOKEN@… form)")
    func respTargetTakesToken() async throws {
        try await withRedisServer { primary in
            try await withRedisServer(arguments: ["--requirepass", "tok-secret"]) { target in
                let proxy = try ShadowProcess([
                    "--primary", primary.url, "--target", "redis://127.0.0.1:\(target.port)", "--token", "tok-secret",
                ])
                let client = RedisClient(url: try RedisURL("redis://127.0.0.1:\(proxy.port)"))
                #expect(try await client.send(RESPCommand("SET", "k", "v")) == .ok)
                await client.close()
                let summary = proxy.stop()
                #expect(summary.contains("mismatches: none"), "\(summary)")
                #expect(!summary.contains("tok-secret"))
                let t = try target.client("redis://:tok-secret@127.0.0.1:\(target.port)")
                #expect(try await t.send(RESPCommand("GET", "k")) == .bulk("v"))
                await t.close()
            }
        }
    }

    @Test("the flip to a RESP target: the target answers (logged in with --token), the old primary keeps the writes")
    func flipToRESPTarget() async throws {
        try await withRedisServer { primary in
            try await withRedisServer(arguments: ["--requirepass", "tok-secret"]) { target in
                let t = try target.client("redis://:tok-secret@127.0.0.1:\(target.port)")
                _ = try await t.send(RESPCommand("SET", "where", "target"))
                let proxy = try ShadowProcess([
                    "--primary", primary.url, "--target", "redis://127.0.0.1:\(target.port)", "--token", "tok-secret",
                    "--primary-side", "upstash",
                ])
                let client = RedisClient(url: try RedisURL("redis://127.0.0.1:\(proxy.port)"))
                #expect(try await client.send(RESPCommand("GET", "where")) == .bulk("target"))
                #expect(try await client.send(RESPCommand("SET", "k", "v")) == .ok)
                await client.close()
                let summary = proxy.stop()
                #expect(!summary.contains("tok-secret"), "\(summary)")
                let old = try primary.client()
                #expect(try await old.send(RESPCommand("GET", "k")) == .bulk("v"))
                await old.close()
                await t.close()
            }
        }
    }
}
