import NIOCore
import RESP

/// One unit of work for the mirror side: a command, or a whole MULTI…EXEC transaction, together
/// with what the primary answered, so the two replies can be compared.
///
/// A class: an item passes through a queue, a batch and the comparer, and copying its arrays and
/// values at each step cost more than the mirroring itself.
final class MirrorItem: Sendable {
    /// What to run on the mirror side, with each command's traits (not a separate array: that was
    /// an allocation per mirrored command).
    enum Unit: Sendable {
        case single(RESPCommand, CommandTraits)
        /// The commands between MULTI and EXEC, run as one transaction.
        case transaction([RESPCommand], [CommandTraits])
    }

    let unit: Unit
    /// Every key the unit touches.
    let keys: [[UInt8]]
    /// The unit may change data.
    let isWrite: Bool
    /// What the mirror should answer when both sides agree: the primary's reply, or its effect's
    /// (EXEC's array for a transaction); nil when it was too large or deep to read (not compared).
    let primary: RESPValue?
    /// An empty reply may mean a write through another connection has not reached the mirror yet.
    let retryWhenEmpty: Bool
    let connection: UInt64
    let snapshot: KeyWriteTracker.Snapshot
    /// When the primary's reply arrived.
    let primaryAt: NIODeadline
    /// The primary's reply came over RESP3 (shapes normalised to RESP2; nesting may still differ).
    let resp3: Bool
    /// Called once the item is settled (compared, failed or dropped): dual-write releases the client's reply.
    let completion: (@Sendable () -> Void)?

    init(
        unit: Unit, keys: [[UInt8]], isWrite: Bool, primary: RESPValue?, connection: UInt64,
        snapshot: KeyWriteTracker.Snapshot, primaryAt: NIODeadline, resp3: Bool, retryWhenEmpty: Bool = false,
        completion: (@Sendable () -> Void)?
    ) {
        self.unit = unit
        self.keys = keys
        self.isWrite = isWrite
        self.primary = primary
        self.connection = connection
        self.snapshot = snapshot
        self.primaryAt = primaryAt
        self.resp3 = resp3
        self.retryWhenEmpty = retryWhenEmpty
        self.completion = completion
    }

    /// The command name for records (`MULTI` for a transaction).
    var commandName: String {
        switch unit {
        case .single(_, let traits): return traits.name
        case .transaction: return "MULTI"
        }
    }
}
