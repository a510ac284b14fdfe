import Foundation
import RESP
import RedisClient
import Shadow
import TestSupport
import Testing

@Suite("divergence records and the reconcile loop", .serialized)
struct DivergenceTests {
    @Test("a key changed behind the proxy's back gives a diff record naming it; migrate --keys-from repairs it")
    func diffThenReconcile() async throws {
        let primary = try await RedisServer()
        let target = try await RedisServer()
        defer {
            primary.stop()
            target.stop()
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("upshift-shadow-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = dir.appendingPathComponent("mismatches.jsonl").path
        let keys = dir.appendingPathComponent("divergent.keys").path
        let proxy = try ShadowProcess.start([
            "--listen", "127.0.0.1:0", "--primary", primary.url, "--target", target.url, "--read-sample", "1",
            "--mismatch-log", log, "--keys-out", keys,
        ])
        let client = RedisClient(url: try RedisURL("redis://127.0.0.1:\(proxy.port)"))
        let direct = try target.client()
        #expect(try await client.send(RESPCommand("SET", "user:1", "alice")) == .ok)
        #expect(try await client.send(RESPCommand("SET", "user:2", "bob")) == .ok)
        try await Task.sleep(nanoseconds: 200_000_000)
        #expect(try await direct.send(RESPCommand("SET", "user:1", "tampered-secret")) == .ok)
        #expect(try await client.send(RESPCommand("GET", "user:1")) == .bulk("alice"))
        #expect(try await client.send(RESPCommand("GET", "user:2")) == .bulk("bob"))
        await client.close()
        try await Task.sleep(nanoseconds: 300_000_000)
        let finished = try proxy.terminate()
        #expect(finished.status == 1, "a diff makes the run fail: \(finished.stderr)")
        #expect(finished.stderr.contains("upshift migrate --source \(primary.url) --target TARGET --keys-from \(keys)"))

        let text = try String(contentsOfFile: log, encoding: .utf8)
        let records = try text.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        let diffs = records.filter { $0["class"] as? String == "diff" }
        #expect(diffs.count == 1, "\(text)")
        #expect(diffs.first?["keys"] as? [String] == ["user:1"])
        #expect(diffs.first?["command"] as? String == "GET")
        #expect(!text.contains("tampered-secret") && !text.contains("alice"), "values are redacted by default")
        #expect(try String(contentsOfFile: keys, encoding: .utf8) == "user:1\n")

        let migrate = try runUpshift(["migrate", "--source", primary.url, "--target", target.url, "--keys-from", keys])
        #expect(migrate.status == 0, "\(migrate.stdout) \(migrate.stderr)")
        #expect(try await direct.send(RESPCommand("GET", "user:1")) == .bulk("alice"))
        let differences = try await keyspaceDifferences(try primary.client(), direct)
        #expect(differences.isEmpty, "\(differences)")
        await direct.close()
    }

    @Test("with the target stopped, clients see no error and the records say shadow-unavailable")
    func targetStopped() async throws {
        let rig = try await ShadowRig(mirrorTimeoutMs: 1000, drainSeconds: 2)
        defer { rig.stop() }
        let client = try rig.client()
        #expect(try await client.send(RESPCommand("SET", "warmup", "1")) == .ok)
        rig.target.pause()
        var timings: [UInt64] = []
        for i in 0..<300 {
            let start = DispatchTime.now().uptimeNanoseconds
            #expect(try await client.send(RESPCommand("SET", "k:\(i)", "\(i)")) == .ok)
            #expect(try await client.send(RESPCommand("GET", "k:\(i)")) == .bulk("\(i)"))
            timings.append(DispatchTime.now().uptimeNanoseconds - start)
        }
        timings.sort()
        // Waiting on the stopped mirror even once would take its whole 1 s timeout.
        #expect(timings.last! < 900_000_000, "the primary path never waits for the mirror: slowest \(timings.last! / 1_000_000) ms")
        #expect(timings[timings.count / 2] < 20_000_000, "median round trip \(timings[timings.count / 2] / 1_000_000) ms")
        await client.close()
        let summary = await rig.shutdown()
        rig.target.resume()
        #expect((summary.metrics.mismatches[.shadowUnavailable] ?? 0) > 0)
        #expect(summary.metrics.mismatches[.diff] == nil)
        let records = try rig.records()
        #expect(
            records.contains { $0["class"] as? String == "shadow-unavailable" && ($0["keys"] as? [String])?.first?.hasPrefix("k:") == true }
        )
        #expect(summary.divergentKeys >= 1, "writes the mirror never saw are listed for reconcile")
    }

    @Test("the mirror side's connections killed mid-run: each lane reconnects, later writes arrive, none in between is lost unrecorded")
    func mirrorConnectionsKilled() async throws {
        let rig = try await ShadowRig(readSample: 0, mirrorTimeoutMs: 1000)
        defer { rig.stop() }
        let client = try rig.client()
        let target = try rig.target.client()
        func written(_ prefix: String, _ range: Range<Int>) async throws {
            for i in range { #expect(try await client.send(RESPCommand("SET", "\(prefix):\(i)", "\(i)")) == .ok) }
        }
        // Up to speed first: the lanes' own connections to the target are open.
        try await written("before", 0..<200)
        try await Task.sleep(nanoseconds: 200_000_000)
        #expect(try await target.send(RESPCommand("EXISTS", "before:199")) == .integer(1))
        let killed = try await target.send(RESPCommand("CLIENT", "KILL", "TYPE", "normal"))
        #expect((killed.integer ?? 0) >= 1, "\(killed)")
        try await written("between", 0..<200)
        try await Task.sleep(nanoseconds: 600_000_000)
        try await written("after", 0..<200)
        await client.close()
        let summary = await rig.shutdown()
        var missing: [String] = []
        for i in 0..<200 where try await target.send(RESPCommand("EXISTS", "after:\(i)")) != .integer(1) { missing.append("after:\(i)") }
        #expect(missing.isEmpty, "not mirrored after the reconnect: \(missing.prefix(5))")
        // What the mirror did not get in between is recorded and listed for reconcile.
        let listed = Set(rig.proxy.divergentKeys.keys.map { String(decoding: $0, as: UTF8.self) })
        for i in 0..<200 where try await target.send(RESPCommand("EXISTS", "between:\(i)")) != .integer(1) {
            #expect(listed.contains("between:\(i)"), "between:\(i) neither mirrored nor listed")
        }
        #expect(summary.metrics.mismatches[.diff] == nil)
        await target.close()
    }

    @Test("a full mirror queue drops (never blocks) and lists the dropped writes' keys")
    func queueFullDrops() async throws {
        let rig = try await ShadowRig(readSample: 0, queueLimit: 4, mirrorTimeoutMs: 1000, drainSeconds: 1)
        defer { rig.stop() }
        rig.target.pause()
        let client = try rig.client()
        let replies = try await client.send(batch: (0..<200).map { RESPCommand("SET", "q:\($0)", "v") })
        #expect(replies.allSatisfy { $0 == .ok })
        await client.close()
        let summary = await rig.shutdown()
        rig.target.resume()
        #expect((summary.metrics.mismatches[.dropped] ?? 0) > 150)
        #expect(rig.proxy.divergentKeys.keys.contains(Array("q:199".utf8)))
    }
}

/// `upshift shadow` as a child process, with the port it printed.
final class ShadowProcess: @unchecked Sendable {
    let process: Process
    let port: Int
    private let stdout: Pipe
    private let stderr: ProgramOutput

    private init(process: Process, port: Int, stdout: Pipe, stderr: ProgramOutput) {
        self.process = process
        self.port = port
        self.stdout = stdout
        self.stderr = stderr
    }

    static func start(_ arguments: [String]) throws -> ShadowProcess {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try upshiftBinary())
        p.arguments = ["shadow"] + arguments
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        reapWhenTestsDie(p.processIdentifier)
        let errors = ProgramOutput(err.fileHandleForReading)
        var line: [UInt8] = []
        while true {
            let byte = out.fileHandleForReading.readData(ofLength: 1)
            guard let b = byte.first else {
                throw TestSupportError("upshift shadow exited before listening: \(errors.text())")
            }
            if b == 10 { break }
            line.append(b)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("shadow listening on 127.0.0.1:"), let port = Int(text.split(separator: ":").last ?? "") else {
            throw TestSupportError("unexpected first line: \(text)")
        }
        return ShadowProcess(process: p, port: port, stdout: out, stderr: errors)
    }

    /// SIGTERM, then waits for the graceful shutdown.
    func terminate() throws -> ProgramResult {
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            throw TestSupportError("upshift shadow did not stop within 20 s of SIGTERM")
        }
        process.waitUntilExit()
        return ProgramResult(status: process.terminationStatus, stdout: "", stderr: stderr.text())
    }
}
