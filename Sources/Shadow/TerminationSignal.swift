import Dispatch
import Foundation
import NIOConcurrencyHelpers

/// Waiting for SIGINT or SIGTERM, so a long-running command can shut down gracefully.
public enum TerminationSignal {
    /// Returns the signal number once SIGINT or SIGTERM arrives (their default actions are disabled).
    public static func wait() async -> Int32 {
        await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            let once = NIOLockedValueBox(false)
            let queue = DispatchQueue(label: "upshift.signals")
            var sources: [any DispatchSourceSignal] = []
            for sig in [SIGINT, SIGTERM] {
                signal(sig, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
                source.setEventHandler {
                    let first = once.withLockedValue { fired -> Bool in
                        defer { fired = true }
                        return !fired
                    }
                    if first { continuation.resume(returning: sig) }
                }
                source.resume()
                sources.append(source)
            }
            keepAlive.add(sources)
        }
    }

    /// Sources live until the process exits.
    private static let keepAlive = SignalSources()
}

/// Holds dispatch signal sources so they stay installed; touched only under its lock.
private final class SignalSources: @unchecked Sendable {
    private let lock = NIOLock()
    private var sources: [any DispatchSourceSignal] = []

    func add(_ more: [any DispatchSourceSignal]) {
        lock.withLock { sources += more }
    }
}
