import NIOConcurrencyHelpers
import NIOCore

/// Per-key recent writers across all connections, to tell a `race` from a `diff`: a mismatch is a
/// race when another connection wrote one of the command's keys while the command was between its
/// primary and its mirror execution.
///
/// "While" has a margin (`window`) on both sides: the proxy learns of a write when it reads the
/// primary's reply, and connections on two event loops may be read in another order than the
/// primary ran them. With each loop's mirror lane as quick as the loop itself, another loop's write
/// the primary ran first can be seen only after this command was mirrored and compared.
///
/// Keys are remembered by a 64-bit hash of their bytes, each with its last few writers inline:
/// every mirrored write passes through here twice, and `[UInt8]` keys (hashed a byte at a time,
/// copied into the table) with an array per key were 11 % of the proxy's CPU on pipelined SETs
/// (perf). Two keys sharing a hash can only turn a `diff` into a `race`, never hide one.
final class KeyWriteTracker: Sendable {
    /// What was true about a command's keys when the primary answered it.
    struct Snapshot: Sendable {
        /// When the proxy read the primary's reply.
        var at: NIODeadline
        /// Another connection's write to one of the keys had not reached the mirror yet.
        var foreignInFlight: Bool
    }

    private struct Write {
        var connection: UInt64
        var sequence: UInt64
        var at: NIODeadline
    }

    private struct KeyState {
        /// The last few writes, oldest first: one connection's burst must not hide another's write in between.
        var recent: InlineArray<4, Write> = .init(repeating: Write(connection: 0, sequence: 0, at: .uptimeNanoseconds(0)))
        var count = 0
        var inFlight: Int32 = 0
        var lastSequence: UInt64 { count == 0 ? 0 : recent[count - 1].sequence }

        func wroteBy(other connection: UInt64) -> Bool {
            for i in 0..<count where recent[i].connection != connection { return true }
            return false
        }

        func wroteBy(other connection: UInt64, after time: NIODeadline) -> Bool {
            for i in 0..<count where recent[i].at > time && recent[i].connection != connection { return true }
            return false
        }

        mutating func wrote(_ write: Write) {
            inFlight += 1
            if count > 0 && recent[count - 1].connection == write.connection {
                recent[count - 1] = write
                return
            }
            if count == recent.count {
                for i in 1..<count { recent[i - 1] = recent[i] }
                count -= 1
            }
            recent[count] = write
            count += 1
        }
    }
    private struct State {
        var sequence: UInt64 = 0
        var keys: [UInt64: KeyState] = [:]
    }
    private let state = NIOLockedValueBox(State())
    /// Keys remembered before settled ones are forgotten; races older than this many writes go unseen.
    private let capacity: Int
    /// The margin around a command's time between the two sides in which another connection's write is a race.
    let window: TimeAmount

    init(capacity: Int = 200_000, window: TimeAmount = .milliseconds(50)) {
        self.capacity = capacity
        self.window = window
    }

    private static func hash(_ key: [UInt8]) -> UInt64 {
        var h = Hasher()
        key.withUnsafeBytes { h.combine(bytes: $0) }
        return UInt64(bitPattern: Int64(h.finalize()))
    }

    /// The keys' hashes, on the stack (an array here was two allocations per mirrored write).
    private static func withHashes<R>(_ keys: [[UInt8]], _ body: (UnsafeMutableBufferPointer<UInt64>) -> R) -> R {
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: keys.count) { hashes in
            for (i, k) in keys.enumerated() { hashes.initializeElement(at: i, to: hash(k)) }
            return body(hashes)
        }
    }

    /// Called when the primary has answered a mirrored command, before it is queued for the mirror.
    func executed(keys: [[UInt8]], connection: UInt64, isWrite: Bool, at now: NIODeadline = .now()) -> Snapshot {
        Self.withHashes(keys) { hashes in executed(hashes, connection: connection, isWrite: isWrite, at: now) }
    }

    private func executed(_ hashes: UnsafeMutableBufferPointer<UInt64>, connection: UInt64, isWrite: Bool, at now: NIODeadline) -> Snapshot
    {
        state.withLockedValue { s in
            var foreign = false
            for h in hashes {
                if let ks = s.keys[h], ks.inFlight > 0, ks.wroteBy(other: connection) { foreign = true }
            }
            let snapshot = Snapshot(at: now, foreignInFlight: foreign)
            if isWrite {
                s.sequence &+= 1
                let write = Write(connection: connection, sequence: s.sequence, at: now)
                for h in hashes {
                    s.keys[h, default: KeyState()].wrote(write)
                }
                if s.keys.count > capacity { forgetSettled(&s) }
            }
            return snapshot
        }
    }

    /// Called once the mirror has run (or given up on) a write.
    func settled(keys: [[UInt8]]) {
        Self.withHashes(keys) { hashes in
            state.withLockedValue { s in
                for h in hashes {
                    guard let i = s.keys.index(forKey: h) else { continue }
                    s.keys.values[i].inFlight = max(0, s.keys.values[i].inFlight - 1)
                }
            }
        }
    }

    /// True when another connection wrote one of `keys` since `window` before `snapshot`, or had a
    /// write in flight then.
    func raced(keys: [[UInt8]], connection: UInt64, since snapshot: Snapshot) -> Bool {
        if snapshot.foreignInFlight { return true }
        let from = snapshot.at - window
        return Self.withHashes(keys) { hashes in
            state.withLockedValue { s in
                hashes.contains { h in
                    guard let ks = s.keys[h], ks.count > 0 else { return false }
                    // Writes older than the ones remembered may have come from anyone.
                    if ks.count == ks.recent.count && ks.recent[0].at > from { return true }
                    return ks.wroteBy(other: connection, after: from)
                }
            }
        }
    }

    private func forgetSettled(_ s: inout State) {
        let horizon = s.sequence &- UInt64(capacity / 2)
        s.keys = s.keys.filter { $0.value.inFlight > 0 || $0.value.lastSequence > horizon }
    }
}
