import Foundation

/// `upshift` running in the background with both outputs captured as they come: for tests that
/// watch its progress, signal it mid-run, or run it from another directory or as a copied binary.
public final class UpshiftProcess: @unchecked Sendable {
    private let process = Process()
    private let lock = NSLock()
    private var out = Data()
    private var err = Data()
    private let drained = DispatchGroup()

    /// Starts `binary` (default: the one under test) with `arguments`, in `directory` when given.
    public init(
        _ arguments: [String], directory: URL? = nil, environment: [String: String] = [:], binary: String? = nil
    ) throws {
        process.executableURL = URL(fileURLWithPath: try binary ?? upshiftBinary())
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let outPipe = Pipe()
        let errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        try process.run()
        reapWhenTestsDie(process.processIdentifier)
        for (pipe, isOut) in [(outPipe, true), (errPipe, false)] {
            drained.enter()
            let handle = pipe.fileHandleForReading
            Thread {
                while true {
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    self.lock.withLock {
                        if isOut { self.out.append(chunk) } else { self.err.append(chunk) }
                    }
                }
                self.drained.leave()
            }.start()
        }
    }

    /// What it wrote to stderr so far.
    public var stderrSoFar: String { lock.withLock { String(decoding: err, as: UTF8.self) } }

    /// What it wrote to stdout so far.
    public var stdoutSoFar: String { lock.withLock { String(decoding: out, as: UTF8.self) } }

    /// Its process id.
    public var pid: Int32 { process.processIdentifier }

    /// Sends it a signal (SIGINT, SIGTERM…).
    public func signal(_ sig: Int32) {
        kill(process.processIdentifier, sig)
    }

    /// Waits (off the cooperative pool) until `condition` holds, polling every 10 ms; false when
    /// `timeout` seconds passed first or the process ended.
    public func waitFor(_ timeout: TimeInterval = 20, _ condition: @escaping @Sendable () -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            if !process.isRunning { return condition() }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        return false
    }

    /// Waits for it to end (SIGKILL after `timeout` seconds, which fails the wait) and returns its
    /// status and output; `exited` is false when a signal ended it.
    public func finish(timeout: TimeInterval = 60) async throws -> (result: CommandResult, exited: Bool) {
        let p = process
        let group = drained
        let done = try await offPool { () -> Bool in
            if group.wait(timeout: .now() + timeout) == .timedOut {
                kill(p.processIdentifier, SIGKILL)
                p.waitUntilExit()
                return false
            }
            p.waitUntilExit()
            return true
        }
        guard done else { throw TestSupportError("upshift \(process.arguments?.first ?? "") did not finish within \(Int(timeout)) s") }
        let result = lock.withLock {
            CommandResult(
                status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
                stderr: String(decoding: err, as: UTF8.self))
        }
        return (result, process.terminationReason == .exit)
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// Runs `upshift` to the end from `directory` (as a person would, from anywhere), or as `binary`.
public func runUpshift(
    _ arguments: [String], in directory: URL, binary: String? = nil, timeout: TimeInterval = 120
) async throws -> CommandResult {
    try await UpshiftProcess(arguments, directory: directory, binary: binary).finish(timeout: timeout).result
}
