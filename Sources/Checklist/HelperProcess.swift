import Dispatch
import Foundation

/// A server `verify --app-tests` runs beside the app's tests (the lenient gateway in front of the
/// source, the flipped proxy in front of the target): a child that announces its port on standard output.
public final class HelperProcess: Sendable {
    /// What it is, for messages: "gateway", "proxy".
    public let name: String
    /// The port it announced.
    public let port: Int
    private let child: ChildProcess
    private let errorsPath: String

    private init(name: String, port: Int, child: ChildProcess, errorsPath: String) {
        self.name = name
        self.port = port
        self.child = child
        self.errorsPath = errorsPath
    }

    /// Starts `executable` and waits (up to `timeout`) for `marker` followed by a port number on its
    /// standard output (`gateway listening on http://127.0.0.1:`); its output is kept in `directory`.
    public static func start(
        name: String, executable: String, arguments: [String], environment: [String: String], marker: String, directory: String,
        timeout: Duration = .seconds(30)
    ) async throws -> HelperProcess {
        let out = "\(directory)/\(name).out"
        let errors = "\(directory)/\(name).err"
        let child = try await ChildProcess.start(
            executable: executable, arguments: arguments, environment: environment, output: out, errors: errors)
        let deadline = ContinuousClock.now + timeout
        while true {
            let seen = String(decoding: FileManager.default.contents(atPath: out) ?? Data(), as: UTF8.self)
            if let r = seen.range(of: marker) {
                let digits = seen[r.upperBound...].prefix { $0.isNumber }
                if let port = Int(digits), digits.count < seen[r.upperBound...].count {
                    return HelperProcess(name: name, port: port, child: child, errorsPath: errors)
                }
            }
            if let ended = child.ended {
                let said = OutputText.lastLine(String(decoding: FileManager.default.contents(atPath: errors) ?? Data(), as: UTF8.self))
                throw ChildProcessError("the \(name) exited at start (\(ended)): \(said)")
            }
            if ContinuousClock.now > deadline || Task.isCancelled {
                await child.stop(grace: .seconds(1))
                if Task.isCancelled { throw CancellationError() }
                throw ChildProcessError("the \(name) did not announce its port within \(AppTestsRunner.seconds(timeout))")
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Stops it (SIGTERM, its graceful path; SIGKILL after `grace`) and returns what it wrote on
    /// standard error: the proxy's end-of-run summary.
    @discardableResult
    public func stop(grace: Duration = .seconds(10)) async -> String {
        await child.stop(grace: grace)
        return String(decoding: FileManager.default.contents(atPath: errorsPath) ?? Data(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// The last line of a child's words, for one-line errors.
enum OutputText {
    static func lastLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).last.map { String($0.prefix(500)) } ?? "(it said nothing)"
    }
}

/// Runs `body` in a task that SIGINT and SIGTERM cancel, so the children it started are stopped
/// on Ctrl-C as on every other path, and returns what it returns.
public func cancellingOnInterrupt<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
    let task = Task { try await body() }
    let queue = DispatchQueue(label: "upshift.app-tests.signals")
    let sources = [SIGINT, SIGTERM].map { sig -> any DispatchSourceSignal in
        #if !os(Linux)
            // Elsewhere the default action must be ignored by hand; on Linux the source's handler replaces it,
            // and children inherit the default action, not an ignored signal.
            signal(sig, SIG_IGN)
        #endif
        let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
        source.setEventHandler { task.cancel() }
        source.resume()
        return source
    }
    defer { for source in sources { source.cancel() } }
    return try await withTaskCancellationHandler {
        try await task.value
    } onCancel: {
        task.cancel()
    }
}
