import Foundation

/// The result of running the `upshift` binary.
public struct CommandResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

/// The built `upshift` binary: `$UPSHIFT_BIN`, or the debug build beside these sources.
public func upshiftBinary() throws -> String {
    if let bin = ProcessInfo.processInfo.environment["UPSHIFT_BIN"], FileManager.default.isExecutableFile(atPath: bin) {
        return bin
    }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    for candidate in [".build/debug/upshift", ".build/release/upshift"] {
        let path = root.appendingPathComponent(candidate).path
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    throw TestSupportError("upshift binary not built: run `swift build` (make test does)")
}

/// Starts `upshift` in the background, its output discarded: for tests that kill it mid-run.
public func startUpshift(_ arguments: [String]) throws -> Process {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: try upshiftBinary())
    p.arguments = arguments
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    return p
}

/// Runs `upshift` with arguments and waits for it (bounded by `timeout` seconds).
public func runUpshift(_ arguments: [String], environment: [String: String] = [:], timeout: TimeInterval = 120) throws -> CommandResult {
    try UpshiftProcess(arguments, environment: environment).waitForExit(timeout: timeout).result
}
