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
    let p = Process()
    p.executableURL = URL(fileURLWithPath: try upshiftBinary())
    p.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    p.environment = env
    let out = Pipe()
    let err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    // Read both pipes while it runs so a chatty child cannot fill a pipe and stall.
    let outData = LockedData()
    let errData = LockedData()
    let group = DispatchGroup()
    for (pipe, sink) in [(out, outData), (err, errData)] {
        group.enter()
        DispatchQueue.global().async {
            sink.set(pipe.fileHandleForReading.readDataToEndOfFile())
            group.leave()
        }
    }
    if group.wait(timeout: .now() + timeout) == .timedOut {
        p.terminate()
        throw TestSupportError("upshift \(arguments.first ?? "") did not finish within \(Int(timeout)) s")
    }
    p.waitUntilExit()
    return CommandResult(
        status: p.terminationStatus,
        stdout: String(decoding: outData.get(), as: UTF8.self),
        stderr: String(decoding: errData.get(), as: UTF8.self)
    )
}

final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func set(_ d: Data) {
        lock.lock()
        data = d
        lock.unlock()
    }
    func get() -> Data {
        lock.lock()
        defer { lock.unlock() }
        return data
    }
}
