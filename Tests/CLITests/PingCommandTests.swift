import TestSupport
import Testing

@Suite("upshift ping")
struct PingCommandTests {
    @Test("pings a real server and prints its version and round trip")
    func pingsServer() async throws {
        try await withRedisServer(arguments: ["--requirepass", "pw-4411"]) { server in
            let result = try runUpshift(["ping", "--source", "redis://:pw-4411@127.0.0.1:\(server.port)"])
            #expect(result.status == 0)
            #expect(result.stdout.contains("PONG"))
            #expect(result.stdout.contains("redis 7."))
            #expect(result.stdout.contains("ms"))
            #expect(!result.stdout.contains("pw-4411"))
        }
    }

    @Test("REDIS_URL is the fallback for --source")
    func environment() async throws {
        try await withRedisServer { server in
            let result = try runUpshift(["ping"], environment: ["REDIS_URL": server.url])
            #expect(result.status == 0)
            #expect(result.stdout.contains("PONG"))
        }
    }

    @Test("a closed port fails with one line, a non-zero exit, and no password")
    func refused() throws {
        let result = try runUpshift(["ping", "--source", "redis://user:topsecret-77@127.0.0.1:1"])
        #expect(result.status != 0)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(result.stderr.contains("127.0.0.1:1"))
        #expect(result.stderr.contains("refused"))
        #expect(!result.stderr.contains("topsecret-77"))
    }

    @Test("a wrong password fails clearly", arguments: ["redis://:nope-123@127.0.0.1:PORT", "redis://127.0.0.1:PORT"])
    func wrongPassword(_ template: String) async throws {
        try await withRedisServer(arguments: ["--requirepass", "right"]) { server in
            let url = template.replacingOccurrences(of: "PORT", with: "\(server.port)")
            let result = try runUpshift(["ping", "--source", url])
            #expect(result.status != 0)
            #expect(result.stderr.split(separator: "\n").count == 1)
            #expect(!result.stderr.contains("nope-123"))
        }
    }

    @Test("--version and --help on every subcommand")
    func help() throws {
        let version = try runUpshift(["--version"])
        #expect(version.status == 0)
        #expect(version.stdout.contains("0."))
        for sub in ["ping"] {
            let help = try runUpshift([sub, "--help"])
            #expect(help.status == 0)
            #expect(help.stdout.contains("USAGE"))
        }
    }
}
