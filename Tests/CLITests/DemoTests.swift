import Foundation
import TestSupport
import Testing

@Suite("make demo")
struct DemoTests {
    @Test("the demo runs the cutover end to end and leaves no process behind")
    func demo() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("upshift-demo-test-\(UUID().uuidString)").path
        let out = work + "-out"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [root.appendingPathComponent("scripts/demo.sh").path]
        var env = ProcessInfo.processInfo.environment
        env["UPSHIFT_BIN"] = try upshiftBinary()
        env["DEMO_OUT"] = out
        env["DEMO_WORK"] = work
        p.environment = env
        // a file, not a pipe: the demo's background servers must not hold the test's reader open
        let log = work + ".log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        p.standardOutput = handle
        p.standardError = handle
        p.standardInput = FileHandle.nullDevice
        try p.run()
        var status: Int32 = 0
        waitpid(p.processIdentifier, &status, 0)
        try handle.close()
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(status == 0, "\(output.suffix(3000))")
        #expect(output.contains("no differences"))
        #expect(output.contains("0 failed"))
        // after the flip the unchanged app gets every reply right from 'Upstash', and the old Redis still matches it
        let afterFlip = output.components(separatedBy: "== 11. The flip").last ?? ""
        #expect(afterFlip.contains(" 0 wrong replies"), "\(afterFlip)")
        #expect(afterFlip.contains("mismatches: none"))
        #expect(afterFlip.contains("no differences"))
        for report in ["report.html", "migrate.json", "compare.md", "verify.xml", "compare-after-flip.md"] {
            #expect(FileManager.default.fileExists(atPath: "\(out)/\(report)"), "\(report) missing")
        }
        // the redis-servers ran with the work folder in their arguments; the gateway and proxies by their ports
        let left = Process()
        left.executableURL = URL(fileURLWithPath: "/usr/bin/pgrep")
        left.arguments = ["-f", work]
        left.standardOutput = FileHandle.nullDevice
        try left.run()
        left.waitUntilExit()
        #expect(left.terminationStatus == 1, "redis-servers of the demo are still running")
        let ports = output.matches(of: /127\.0\.0\.1:(\d+)/).compactMap { Int($0.output.1) }
        #expect(!ports.isEmpty)
        for port in Set(ports) { #expect(!isListening(port: port), "port \(port) is still served after the demo") }
        try? FileManager.default.removeItem(atPath: out)
        try? FileManager.default.removeItem(atPath: log)
    }
}
