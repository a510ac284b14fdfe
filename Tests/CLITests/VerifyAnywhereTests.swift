import Foundation
import TestSupport
import Testing

@Suite("upshift verify: the built-in checklist, from anywhere")
struct VerifyAnywhereTests {
    /// An empty directory that is not the repository, and a copy of the binary in it: an install.
    static func elsewhere() throws -> (URL, String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("upshift-elsewhere-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("bin"), withIntermediateDirectories: true)
        let binary = dir.appendingPathComponent("bin/upshift").path
        try FileManager.default.copyItem(atPath: try upshiftBinary(), toPath: binary)
        return (dir, binary)
    }

    @Test("an installed copy of the binary, run from an empty directory, runs the whole shipped checklist")
    func fromAnywhere() async throws {
        let (dir, binary) = try Self.elsewhere()
        defer { try? FileManager.default.removeItem(at: dir) }
        try await withRedisServer { source in
            let r = try await runUpshift(["verify", "--source", source.url, "--json"], in: dir, binary: binary)
            #expect(r.status == 0, "\(r.stderr)")
            let report = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
            let text = r.stdout
            for area in ["cache", "ratelimit", "locks", "queue", "sessions", "transactions", "pubsub"] {
                #expect(text.contains("\"\(area)\""), "area \(area) did not run")
            }
            #expect(report != nil)
        }
    }

    @Test("--checklist adds an area of its own and replaces a built-in area of the same name; --no-built-in runs only it")
    func addsAndReplaces() async throws {
        let (dir, binary) = try Self.elsewhere()
        defer { try? FileManager.default.removeItem(at: dir) }
        let mine = dir.appendingPathComponent("mine.yaml")
        try """
        area: mine
        scenarios:
          - name: my counter
            steps:
              - send: [INCR, "{p}n"]
                expect: 1
        """.write(to: mine, atomically: true, encoding: .utf8)
        let cache = dir.appendingPathComponent("cache.yaml")
        try """
        area: cache
        scenarios:
          - name: my cache check
            steps:
              - send: [SET, "{p}a", "1"]
                expect: OK
        """.write(to: cache, atomically: true, encoding: .utf8)
        try await withRedisServer { source in
            let both = try await runUpshift(
                ["verify", "--source", source.url, "--checklist", mine.path, "--checklist", cache.path, "--only", "mine,cache,locks"],
                in: dir, binary: binary)
            #expect(both.status == 0, "\(both.stderr)")
            #expect(both.stdout.contains("my counter"), "\(both.stdout)")
            #expect(both.stdout.contains("my cache check"), "\(both.stdout)")
            #expect(!both.stdout.contains("get, set, delete"), "the built-in cache area was not replaced: \(both.stdout)")
            #expect(both.stdout.contains("3 passed") || both.stdout.contains("passed"), "\(both.stdout)")

            let only = try await runUpshift(
                ["verify", "--source", source.url, "--checklist", mine.path, "--no-built-in"], in: dir, binary: binary)
            #expect(only.status == 0, "\(only.stderr)")
            #expect(only.stdout.contains("1 passed"), "\(only.stdout)")
        }
    }
}
