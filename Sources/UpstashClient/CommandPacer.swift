import NIOConcurrencyHelpers

/// Holds a commands-per-second budget across every caller of one client.
///
/// Each request reserves its commands on a shared timeline (a "theoretical arrival time"): it may
/// start when the commands before it have used up their share of the second. Idle time earns no
/// credit, so the rate holds over any window, not just on average.
final class CommandPacer: Sendable {
    /// Commands a second.
    let perSecond: Int
    /// The most commands one request should carry so pacing stays smooth (a tenth of a second's worth).
    let chunk: Int
    private let nextStart = NIOLockedValueBox<ContinuousClock.Instant?>(nil)

    init(perSecond: Int) {
        self.perSecond = max(1, perSecond)
        self.chunk = max(1, self.perSecond / 10)
    }

    /// Waits until `commands` more commands fit the budget; throws when the task is cancelled.
    func acquire(_ commands: Int) async throws(CancellationError) {
        let now = ContinuousClock.now
        let cost = Duration.seconds(Double(commands) / Double(perSecond))
        let start = nextStart.withLockedValue { next -> ContinuousClock.Instant in
            let start = max(now, next ?? now)
            next = start + cost
            return start
        }
        guard start > now else { return }
        do {
            try await Task.sleep(until: start, clock: .continuous)
        } catch {
            throw CancellationError()
        }
    }
}
