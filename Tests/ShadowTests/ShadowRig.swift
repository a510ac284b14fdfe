import Foundation
import Logging
import NIOCore
import RESP
import RedisClient
import Shadow
import TestSupport

/// Two real redis-servers (primary and mirror target) and an in-process proxy between them.
final class ShadowRig: @unchecked Sendable {
    let primary: RedisServer
    let target: RedisServer
    let mirror: RedisClient
    let proxy: ShadowProxy
    let directory: URL

    var port: Int { proxy.port }
    var logPath: String { directory.appendingPathComponent("mismatches.jsonl").path }
    var keysPath: String { directory.appendingPathComponent("divergent.keys").path }

    init(
        mode: ShadowConfiguration.Mode = .shadow, readSample: Double = 1, queueLimit: Int = 100_000, mirrorTimeoutMs: Int64 = 2000,
        drainSeconds: Int64 = 5, primaryArguments: [String] = [], configure: (inout ShadowConfiguration) -> Void = { _ in }
    ) async throws {
        primary = try await RedisServer(arguments: primaryArguments)
        target = try await RedisServer()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("upshift-shadow-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let options = RedisConnectionOptions(connectTimeout: .milliseconds(mirrorTimeoutMs), readTimeout: .milliseconds(mirrorTimeoutMs))
        mirror = RedisClient(url: try RedisURL(target.url), connections: 4, options: options)
        var config = ShadowConfiguration(
            host: "127.0.0.1", port: 0, primary: try RedisURL(primary.url), mode: mode, readSample: readSample,
            mismatchLogPath: directory.appendingPathComponent("mismatches.jsonl").path,
            keysOutPath: directory.appendingPathComponent("divergent.keys").path, queueLimit: queueLimit,
            drainDeadline: .seconds(drainSeconds))
        config.mirrorRetryAfter = .milliseconds(200)
        config.mirrorTimeout = .milliseconds(mirrorTimeoutMs)
        configure(&config)
        var logger = Logger(label: "test.shadow")
        logger.logLevel = .warning
        proxy = try await ShadowProxy.start(config, mirror: mirror, logger: logger)
    }

    /// Shuts the proxy down (draining the mirror queue) and returns its summary; servers keep running.
    func shutdown() async -> ShadowSummary {
        let summary = await proxy.shutdown()
        await mirror.close()
        return summary
    }

    /// Stops the servers and removes the files.
    func stop() {
        primary.stop()
        target.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// A RESP client of the proxy.
    func client() throws -> RedisClient {
        RedisClient(url: try RedisURL("redis://127.0.0.1:\(port)"))
    }

    /// Runs a redis-py script (its argv[1] is the proxy's port); fails the test when it fails.
    func python(_ source: String) throws -> ProgramResult {
        let script = directory.appendingPathComponent("script-\(UUID().uuidString).py").path
        try source.write(toFile: script, atomically: true, encoding: .utf8)
        return try runProgram(try which("python3"), [script, "\(port)"])
    }

    /// The mismatch log's records, each parsed from its JSON line.
    func records() throws -> [[String: Any]] { try mismatchRecords(at: logPath) }
}

/// A mismatch log's records, each parsed from its JSON line; none when there is no log.
func mismatchRecords(at path: String) throws -> [[String: Any]] {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
    return try text.split(separator: "\n").map {
        try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:]
    }
}

/// Runs a program to completion with optional stdin; returns status and output.
func runProgram(_ path: String, _ arguments: [String], stdin: String? = nil, timeout: TimeInterval = 60) throws -> ProgramResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = arguments
    let out = Pipe()
    let err = Pipe()
    let input = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = input
    try p.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try? input.fileHandleForWriting.close()
    let deadline = Date().addingTimeInterval(timeout)
    let outData = ProgramOutput(out.fileHandleForReading)
    let errData = ProgramOutput(err.fileHandleForReading)
    while p.isRunning && Date() < deadline { usleep(10_000) }
    if p.isRunning {
        p.terminate()
        throw TestSupportError("\(path) did not finish within \(Int(timeout)) s")
    }
    p.waitUntilExit()
    return ProgramResult(status: p.terminationStatus, stdout: outData.text(), stderr: errData.text())
}

/// Collects a pipe's output on a background thread so a chatty child never stalls.
final class ProgramOutput: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread.detachNewThread {
            let d = handle.readDataToEndOfFile()
            self.lock.lock()
            self.data = d
            self.lock.unlock()
            self.done.signal()
        }
    }

    func text() -> String {
        done.wait()
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: data, as: UTF8.self)
    }
}

/// What a finished program printed.
struct ProgramResult {
    var status: Int32
    var stdout: String
    var stderr: String
}
