import Foundation
import TestSupport
import Testing

@Suite("upshift report: the CLI")
struct ReportCommandTests {
    @Test("a blocker makes the exit status 2; the JSON on stdout names every finding")
    func blockerExit() async throws {
        try await withRedisServer { server in
            try await Seed.everyFinding(server)
            let result = try runUpshift(["report", "--source", server.url, "--format", "json"])
            #expect(result.status == 2, "stderr: \(result.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            #expect(json["schemaVersion"] as? Int == 1)
            let ids = Set((json["findings"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String })
            for id in [
                "key-too-long", "record-too-large", "needs-chunking", "non-utf8-keys", "database-3", "command-blpop", "lua-functions",
            ] {
                #expect(ids.contains(id), "missing \(id)")
            }
        }
    }

    @Test("a clean keyspace exits 0 with a terminal summary")
    func cleanExit() async throws {
        try await withRedisServer { server in
            try await Seed.clean(server)
            let result = try runUpshift(["report", "--source", server.url])
            #expect(result.status == 0, "stderr: \(result.stderr)")
            #expect(result.stdout.contains("Verdict: 0 blockers"))
            #expect(result.stdout.contains("Cheapest plan that fits"))
            // 50 SETs, one RESTORE for the hash inside one script call, the two SCRIPT LOADs
            #expect(result.stdout.contains("Migration on payg: 54 commands in 1 request,"))
        }
    }

    @Test("--output writes the Markdown to a file and prints one line")
    func markdownFile() async throws {
        try await withRedisServer { server in
            try await Seed.clean(server)
            let path = server.directory.appendingPathComponent("report.md").path
            let result = try runUpshift(["report", "--source", server.url, "--format", "md", "--output", path, "--plan", "fixed-1gb"])
            #expect(result.status == 0)
            // the one warning: a server up for seconds gives a cost extrapolated from a short window
            #expect(result.stdout == "wrote \(path): 0 blockers, 1 warning, 1 note\n")
            let markdown = try String(contentsOfFile: path, encoding: .utf8)
            #expect(markdown.contains("**Short window:**"))
            #expect(markdown.hasPrefix("# Upshift report"))
            #expect(markdown.contains("Checked against **Fixed 1GB**"))
            #expect(markdown.contains("| string | 50 |"))
        }
    }

    @Test("a closed port fails with one line, a non-zero exit, and no password")
    func refused() throws {
        let result = try runUpshift(["report", "--source", "redis://user:topsecret-88@127.0.0.1:1"])
        #expect(result.status != 0)
        #expect(result.status != 2)
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(result.stderr.contains("127.0.0.1:1"))
        #expect(!result.stderr.contains("topsecret-88"))
        #expect(!result.stdout.contains("topsecret-88"))
    }

    @Test("usage errors: an unknown plan or format")
    func usage() throws {
        let plan = try runUpshift(["report", "--source", "redis://127.0.0.1:1", "--plan", "gold"])
        #expect(plan.status == 64)
        // ArgumentParser's refusal lists the plans there are
        #expect(plan.stderr.contains("'gold' is invalid for '--plan"))
        #expect(plan.stderr.contains("payg"))
        let format = try runUpshift(["report", "--source", "redis://127.0.0.1:1", "--format", "pdf"])
        #expect(format.status == 64)
        let help = try runUpshift(["report", "--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("--sample"))
    }
}
