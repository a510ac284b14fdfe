import Dispatch
import Foundation

/// A child process in a process group of its own, its output in files: the app's test command and
/// the helpers (gateway, proxy) `verify --app-tests` starts. Stopping it stops its whole group, so a
/// test runner's own children (pytest's workers, a shell's pipeline) go with it.
public final class ChildProcess: @unchecked Sendable {
    /// How a child ended.
    public enum Ending: Sendable, Equatable {
        case exited(Int32)
        case signaled(Int32)
    }

    /// The process id, which is also its process group's id.
    public let pid: Int32
    private let process: Process
    private let state: EndState

    private init(process: Process, state: EndState) {
        self.process = process
        self.state = state
        pid = process.processIdentifier
    }

    /// Starts `executable` with exactly `environment`, in `directory`, its standard input empty, its
    /// standard output written to `output` and its standard error to `errors` (the same file when nil).
    public static func start(
        executable: String, arguments: [String], environment: [String: String], directory: String? = nil, output: String,
        errors: String? = nil
    ) async throws(ChildProcessError) -> ChildProcess {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        p.environment = environment
        if let directory {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ChildProcessError("no directory \(directory)")
            }
            p.currentDirectoryURL = URL(fileURLWithPath: directory)
        }
        let out = try Self.create(output)
        p.standardOutput = out
        p.standardError = try errors.map(Self.create) ?? out
        p.standardInput = FileHandle.nullDevice
        let state = EndState()
        p.terminationHandler = { ended in
            state.finish(ended.terminationReason == .exit ? .exited(ended.terminationStatus) : .signaled(ended.terminationStatus))
        }
        // Foundation starts every child in a process group of its own (pgid = pid): what `stop` signals.
        // A child inherits the signal mask of the thread that spawns it, and the threads of Swift's
        // concurrency pool block nearly every signal: a child spawned there ignores SIGTERM. So it is
        // spawned from a thread of its own that blocks nothing.
        let spawned = SpawnedProcess(p)
        let failure: String? = await withCheckedContinuation { continuation in
            let thread = Thread {
                var none = sigset_t()
                sigemptyset(&none)
                pthread_sigmask(SIG_SETMASK, &none, nil)
                do {
                    try spawned.process.run()
                    continuation.resume(returning: nil)
                } catch {
                    continuation.resume(returning: error.localizedDescription)
                }
            }
            thread.start()
        }
        if let failure { throw ChildProcessError("cannot start \(executable): \(failure)") }
        return ChildProcess(process: p, state: state)
    }

    deinit {
        if ended == nil { kill(-pid, SIGKILL) }
    }

    /// How it ended, or nil while it runs.
    public var ended: Ending? { state.ended }

    /// Waits until it ends, or `timeout` passes (then nil). Not cut short by task cancellation, so
    /// cleanup can wait for a child in a cancelled task.
    public func exit(within timeout: Duration) async -> Ending? {
        await state.wait(timeout: timeout)
    }

    /// Sends `signal` to its whole process group.
    public func signalGroup(_ signal: Int32) {
        // A group outlives its leader while members remain: signal it even after the leader ended.
        kill(-pid, signal)
    }

    /// Stops it: SIGTERM to the group, SIGKILL after `grace`; returns how it ended.
    @discardableResult
    public func stop(grace: Duration = .seconds(5)) async -> Ending {
        if let ending = ended {
            signalGroup(SIGKILL)
            return ending
        }
        signalGroup(SIGTERM)
        if let ending = await exit(within: grace) {
            signalGroup(SIGKILL)
            return ending
        }
        signalGroup(SIGKILL)
        return await exit(within: .seconds(10)) ?? .signaled(SIGKILL)
    }

    private static func create(_ path: String) throws(ChildProcessError) -> FileHandle {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw ChildProcessError("cannot write \(path)")
        }
        return handle
    }
}

/// A process handed to the thread that starts it, and used by nobody else meanwhile.
private struct SpawnedProcess: @unchecked Sendable {
    let process: Process
    init(_ process: Process) { self.process = process }
}

/// How a child ended, and who waits for that. Foundation reports the end on a thread of its own.
private final class EndState: @unchecked Sendable {
    // Guards everything below.
    private let lock = NSLock()
    private var ending: ChildProcess.Ending?
    private var waiters: [Int: CheckedContinuation<ChildProcess.Ending?, Never>] = [:]
    private var nextWaiter = 0

    var ended: ChildProcess.Ending? { lock.withLock { ending } }

    func wait(timeout: Duration) async -> ChildProcess.Ending? {
        await withCheckedContinuation { (continuation: CheckedContinuation<ChildProcess.Ending?, Never>) in
            let id: Int? = lock.withLock {
                if ending != nil { return nil }
                nextWaiter += 1
                waiters[nextWaiter] = continuation
                return nextWaiter
            }
            guard let id else { return continuation.resume(returning: ended) }
            let (seconds, attoseconds) = timeout.components
            let nanoseconds = Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
            DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(nanoseconds)) {
                self.lock.withLock { self.waiters.removeValue(forKey: id) }?.resume(returning: nil)
            }
        }
    }

    func finish(_ how: ChildProcess.Ending) {
        let resumed: [CheckedContinuation<ChildProcess.Ending?, Never>] = lock.withLock {
            guard ending == nil else { return [] }
            ending = how
            defer { waiters = [:] }
            return Array(waiters.values)
        }
        for waiter in resumed { waiter.resume(returning: how) }
    }
}

/// A child process that could not be started, in words for the user.
public struct ChildProcessError: Error, CustomStringConvertible {
    public let description: String
    /// An error saying `description`.
    public init(_ description: String) { self.description = description }
}
