import NIOConcurrencyHelpers

/// Per-key write sequence numbers across all connections, to tell a `race` from a `diff`:
/// a mismatch is a race when another connection wrote one of the command's keys while the
/// command was between its primary and its mirror execution.
///
/// Keys are hashed into a fixed table of slots (striped locks, no allocation per write): two keys
/// sharing a slot can only turn a `diff` into a `race`, whose keys are still listed for reconcile.
final class KeyWriteTracker: Sendable {
    /// What was true about a command's keys when the primary answered it.
    struct Snapshot: Sendable {
        /// The global write sequence at that moment.
        var sequence: UInt64
        /// Another connection's write to one of the keys had not reached the mirror yet.
        var foreignInFlight: Bool
    }

    /// The last few writes to a slot (connection, sequence), newest last: one connection's burst
    /// must not hide another's write in between.
    private struct Slot {
        var connections: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        var sequences: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        var count: UInt8 = 0
        var inFlight: Int32 = 0

        func connection(_ i: Int) -> UInt64 {
            switch i {
            case 0: return connections.0
            case 1: return connections.1
            case 2: return connections.2
            default: return connections.3
            }
        }

        func sequence(_ i: Int) -> UInt64 {
            switch i {
            case 0: return sequences.0
            case 1: return sequences.1
            case 2: return sequences.2
            default: return sequences.3
            }
        }

        /// Notes a write; a connection writing again only moves its own newest entry.
        mutating func wrote(_ connection: UInt64, _ sequence: UInt64) {
            if count > 0 && self.connection(Int(count) - 1) == connection {
                set(Int(count) - 1, connection, sequence)
                return
            }
            if count == 4 {
                connections = (connections.1, connections.2, connections.3, 0)
                sequences = (sequences.1, sequences.2, sequences.3, 0)
                count = 3
            }
            set(Int(count), connection, sequence)
            count += 1
        }

        private mutating func set(_ i: Int, _ c: UInt64, _ s: UInt64) {
            switch i {
            case 0: (connections.0, sequences.0) = (c, s)
            case 1: (connections.1, sequences.1) = (c, s)
            case 2: (connections.2, sequences.2) = (c, s)
            default: (connections.3, sequences.3) = (c, s)
            }
        }
    }

    private static let stripes = 64
    private let slotsPerStripe: Int
    private let table: [NIOLockedValueBox<[Slot]>]
    private let sequence = NIOLockedValueBox<UInt64>(0)

    /// A table of about `capacity` slots.
    init(capacity: Int = 1 << 16) {
        slotsPerStripe = max(1, capacity / Self.stripes)
        table = (0..<Self.stripes).map { _ in NIOLockedValueBox([Slot](repeating: Slot(), count: max(1, capacity / Self.stripes))) }
    }

    private func place(_ key: [UInt8]) -> (stripe: Int, slot: Int) {
        // FNV-1a: stable, cheap, no allocation.
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in key { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        let stripe = Int(h % UInt64(Self.stripes))
        return (stripe, Int((h / UInt64(Self.stripes)) % UInt64(slotsPerStripe)))
    }

    /// Called when the primary has answered a mirrored command, before it is queued for the mirror.
    func executed(keys: [[UInt8]], connection: UInt64, isWrite: Bool) -> Snapshot {
        let seq = sequence.withLockedValue { s -> UInt64 in
            if isWrite { s &+= 1 }
            return s
        }
        var foreign = false
        for k in keys {
            let (stripe, slot) = place(k)
            table[stripe].withLockedValue { slots in
                let s = slots[slot]
                if s.inFlight > 0, (0..<Int(s.count)).contains(where: { s.connection($0) != connection }) { foreign = true }
                if isWrite {
                    slots[slot].wrote(connection, seq)
                    slots[slot].inFlight += 1
                }
            }
        }
        return Snapshot(sequence: isWrite ? seq &- 1 : seq, foreignInFlight: foreign)
    }

    /// Called once the mirror has run (or given up on) a write.
    func settled(keys: [[UInt8]]) {
        for k in keys {
            let (stripe, slot) = place(k)
            table[stripe].withLockedValue { $0[slot].inFlight = max(0, $0[slot].inFlight - 1) }
        }
    }

    /// True when another connection wrote one of `keys` since `snapshot`, or had a write in flight then.
    func raced(keys: [[UInt8]], connection: UInt64, since snapshot: Snapshot) -> Bool {
        if snapshot.foreignInFlight { return true }
        return keys.contains { k in
            let (stripe, slot) = place(k)
            return table[stripe].withLockedValue { slots in
                let s = slots[slot]
                guard s.count > 0 else { return false }
                // Writes older than the ones remembered may have come from anyone.
                if s.count == 4 && s.sequence(0) > snapshot.sequence { return true }
                return (0..<Int(s.count)).contains { s.sequence($0) > snapshot.sequence && s.connection($0) != connection }
            }
        }
    }
}
