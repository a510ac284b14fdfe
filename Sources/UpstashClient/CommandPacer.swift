import NIOConcurrencyHelpers

/// Holds a commands-per-second budget across every caller of one client.
///
/// It counts what Upstash bills (`UpstashBilling`): a script is its call plus the commands it
/// runs, so a batch of bulk-writing scripts is paced by what it really costs the database.
///
/// Each request reserves its commands on a shared timeline (GCRA, a "theoretical arrival time"):
/// it may start when the commands before it have used up their share of the second. Idle time
/// earns at most `tolerance` of credit, so a caller slowed by a hiccup can catch up a little, but
/// no window ever carries more than a twentieth of a second's extra commands.
final class CommandPacer: Sendable {
    /// Commands a second.
    let perSecond: Int
    /// The most billed commands one request should carry so pacing stays smooth (1/20 s worth).
    let chunk: Int
    /// The credit idle time may build up.
    let tolerance: Duration
    private let next = NIOLockedValueBox<ContinuousClock.Instant?>(nil)

    init(perSecond: Int, tolerance: Duration = .milliseconds(50)) {
        self.perSecond = max(1, perSecond)
        self.chunk = max(1, self.perSecond / 20)
        self.tolerance = tolerance
    }

    /// Waits until `commands` more billed commands fit the budget; throws when the task is cancelled.
    func acquire(_ commands: Int) async throws(CancellationError) {
        let now = ContinuousClock.now
        let cost = Duration.seconds(Double(commands) / Double(perSecond))
        let start = next.withLockedValue { next -> ContinuousClock.Instant in
            let earliest = max(next ?? now - tolerance, now - tolerance)
            next = earliest + cost
            return max(now, earliest)
        }
        guard start > now else { return }
        do {
            try await Task.sleep(until: start, clock: .continuous)
        } catch {
            throw CancellationError()
        }
    }
}
