import Foundation

/// A Python program from `Fixtures/` (a flaky or failing HTTP hop, some other web server) listening
/// on a free port, given as its first argument; killed when the test is done with it.
public final class FixtureProcess: @unchecked Sendable {
    public let port: Int
    private let process: Process

    /// Starts `Fixtures/<script>` with the port, then `arguments`, and waits until it accepts connections.
    public init(_ script: String, _ arguments: [String] = []) async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        port = try freePort()
        process = Process()
        process.executableURL = URL(fileURLWithPath: try which("python3"))
        process.arguments = [root.appendingPathComponent("Fixtures/\(script)").path, "\(port)"] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        reapWhenTestsDie(process.processIdentifier)
        // every probe is a connection the fixture serves: stop probing once one is accepted
        var listening = false
        for _ in 0..<250 {
            listening = isListening(port: port)
            if listening || !process.isRunning { break }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        guard listening else {
            stop()
            throw TestSupportError("Fixtures/\(script) did not listen on \(port) within 5 s")
        }
    }

    /// Stops it now (SIGKILL).
    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { stop() }
}

/// Runs `body` with `Fixtures/<script>` listening on the port it is given; stops it afterwards.
public func withFixture<T>(_ script: String, _ arguments: [String] = [], _ body: (Int) async throws -> T) async throws -> T {
    let fixture = try await FixtureProcess(script, arguments)
    defer { fixture.stop() }
    return try await body(fixture.port)
}
