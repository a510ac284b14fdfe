import NIOCore
import RESP

/// One unit of work for the mirror side: a command, or a whole MULTI…EXEC transaction, together
/// with what the primary answered, so the two replies can be compared.
struct MirrorItem: Sendable {
    /// What to run on the mirror side.
    enum Unit: Sendable {
        case single(RESPCommand)
        /// The commands between MULTI and EXEC, run as one transaction.
        case transaction([RESPCommand])
    }

    var unit: Unit
    /// One per command of the unit.
    var traits: [CommandTraits]
    /// Every key the unit touches.
    var keys: [[UInt8]]
    /// The unit may change data.
    var isWrite: Bool
    /// The primary's reply (EXEC's array for a transaction).
    var primary: RESPValue
    var connection: UInt64
    var snapshot: KeyWriteTracker.Snapshot
    /// When the primary's reply arrived.
    var primaryAt: NIODeadline
    /// The primary's reply came over RESP3 (shapes normalised to RESP2; nesting may still differ).
    var resp3: Bool
    /// Called once the item is settled (compared, failed or dropped): dual-write releases the client's reply.
    var completion: (@Sendable () -> Void)?

    /// The command name for records (`MULTI` for a transaction).
    var commandName: String {
        switch unit {
        case .single: return traits.first?.name ?? "?"
        case .transaction: return "MULTI"
        }
    }
}

/// What the mirror side did with an item.
enum MirrorOutcome: Sendable {
    case reply(RESPValue)
    /// Not reachable, or no reply in time; the text is free of secrets.
    case unavailable(String)
    /// Never sent: the queue was full, or shutdown's deadline passed.
    case dropped
}
