import Foundation

/// Runs blocking work (starting a process, waiting for it) on a thread of its own, so it does not
/// hold one of the few cooperative-pool threads every other test in the run needs.
public func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.start()
    }
}
