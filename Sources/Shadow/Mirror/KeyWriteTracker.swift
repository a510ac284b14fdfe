import NIOConcurrencyHelpers

/// Per-key write sequence numbers across all connections, to tell a `race` from a `diff`:
/// a mismatch is a race when another connection wrote one of the command's keys while the
/// command was between its primary and its mirror execution.
final class KeyWriteTracker: Sendable {
    /// What was true about a command's keys when the primary answered it.
    struct Snapshot: Sendable {
        /// The global write sequence at that moment.
        var sequence: UInt64
        /// Another connection's write to one of the keys had not reached the mirror yet.
        var foreignInFlight: Bool
    }

    private struct KeyState {
        /// The last few writes (connection, sequence), newest last: one connection's burst must not
        /// hide another's write in between.
        var recent: [(connection: UInt64, sequence: UInt64)] = []
        var inFlight: Int32 = 0
        var lastSequence: UInt64 { recent.last?.sequence ?? 0 }
    }
    private static let remembered = 4
    private struct State {
        var sequence: UInt64 = 0
        var keys: [[UInt8]: KeyState] = [:]
    }
    private let state = NIOLockedValueBox(State())
    /// Keys remembered before settled ones are forgotten; races older than this many writes go unseen.
    private let capacity: Int

    init(capacity: Int = 200_000) {
        self.capacity = capacity
    }

    /// Called when the primary has answered a mirrored command, before it is queued for the mirror.
    func executed(keys: [[UInt8]], connection: UInt64, isWrite: Bool) -> Snapshot {
        state.withLockedValue { s in
            var foreign = false
            for k in keys {
                if let ks = s.keys[k], ks.inFlight > 0, ks.recent.contains(where: { $0.connection != connection }) { foreign = true }
            }
            let snapshot = Snapshot(sequence: s.sequence, foreignInFlight: foreign)
            if isWrite {
                s.sequence &+= 1
                for k in keys {
                    var ks = s.keys[k] ?? KeyState()
                    if ks.recent.last?.connection == connection {
                        ks.recent[ks.recent.count - 1].sequence = s.sequence
                    } else {
                        if ks.recent.count == Self.remembered { ks.recent.removeFirst() }
                        ks.recent.append((connection, s.sequence))
                    }
                    ks.inFlight += 1
                    s.keys[k] = ks
                }
                if s.keys.count > capacity { forgetSettled(&s) }
            }
            return snapshot
        }
    }

    /// Called once the mirror has run (or given up on) a write.
    func settled(keys: [[UInt8]]) {
        state.withLockedValue { s in
            for k in keys {
                if var ks = s.keys[k] {
                    ks.inFlight = max(0, ks.inFlight - 1)
                    s.keys[k] = ks
                }
            }
        }
    }

    /// True when another connection wrote one of `keys` since `snapshot`, or had a write in flight then.
    func raced(keys: [[UInt8]], connection: UInt64, since snapshot: Snapshot) -> Bool {
        if snapshot.foreignInFlight { return true }
        return state.withLockedValue { s in
            keys.contains { k in
                guard let ks = s.keys[k], let oldest = ks.recent.first else { return false }
                // Writes older than the ones remembered may have come from anyone.
                if ks.recent.count == Self.remembered && oldest.sequence > snapshot.sequence { return true }
                return ks.recent.contains { $0.sequence > snapshot.sequence && $0.connection != connection }
            }
        }
    }

    private func forgetSettled(_ s: inout State) {
        let horizon = s.sequence &- UInt64(capacity / 2)
        s.keys = s.keys.filter { $0.value.inFlight > 0 || $0.value.lastSequence > horizon }
    }
}
