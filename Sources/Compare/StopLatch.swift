import Foundation

/// A stop request that can also be waited for: set once by `Comparer.stop()`, checked between
/// batches, and ending the pause between rounds early.
final class StopLatch: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    private var waiters: [UUID: CheckedContinuation<Void, Never>] = [:]

    /// True once `set()` was called.
    var isSet: Bool { lock.withLock { stopped } }

    /// Stops: every pause in progress ends now.
    func set() {
        let woken = lock.withLock {
            stopped = true
            defer { waiters = [:] }
            return Array(waiters.values)
        }
        for w in woken { w.resume() }
    }

    /// Sleeps `seconds`, or less when the latch is set meanwhile.
    func pause(seconds: Double) async {
        guard seconds > 0 else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: .milliseconds(Int64(seconds * 1000))) }
            group.addTask { await self.wait() }
            await group.next()
            group.cancelAll()
        }
    }

    /// Returns once the latch is set, or the task is cancelled.
    private func wait() async {
        let id = UUID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now = lock.withLock {
                    if stopped || Task.isCancelled { return true }
                    waiters[id] = c
                    return false
                }
                if now { c.resume() }
            }
        } onCancel: {
            lock.withLock { waiters.removeValue(forKey: id) }?.resume()
        }
    }
}
