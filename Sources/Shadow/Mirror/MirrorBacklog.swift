import NIOCore

/// How many mirrored commands wait for the mirror side, and whether clients must wait for it.
///
/// Past `holdMark` waiting commands, while the mirror side keeps answering, sessions stop reading
/// their clients until the backlog is down to half of that: a mirror slower than the primary paces
/// the app instead of dropping writes, which would leave the two sides different. A mirror that owes
/// answers and has given none for `stallAfter` is stuck (hung, or timing out): nobody is held for it,
/// and past `limit` commands are dropped and recorded with their keys. Pure logic; the engine locks it.
struct MirrorBacklog {
    enum Slot: Equatable {
        /// Queued; `hold`: the session should stop reading its client until the mirror catches up.
        case taken(hold: Bool)
        /// The bound is reached: the command is dropped.
        case full
    }

    let limit: Int
    let holdMark: Int
    let stallAfter: TimeAmount
    private(set) var depth = 0
    private(set) var holding = false
    /// Since when the mirror side owes answers without having given one.
    private var owedSince: NIODeadline

    init(limit: Int, stallAfter: TimeAmount, now: NIODeadline) {
        self.limit = limit
        // A tenth of the bound: far below it, so a mirror that keeps answering never reaches drops.
        self.holdMark = max(1, limit / 10)
        self.stallAfter = stallAfter
        self.owedSince = now
    }

    private func stuck(_ now: NIODeadline) -> Bool { now - owedSince >= stallAfter }

    mutating func reserve(now: NIODeadline) -> Slot {
        guard depth < limit else { return .full }
        if depth == 0 { owedSince = now }
        depth += 1
        if !holding && depth >= holdMark && !stuck(now) { holding = true }
        return .taken(hold: holding)
    }

    /// `n` commands settled; `answered`: the mirror side replied to the batch they were in.
    /// True when holding stops: the sessions held must resume.
    mutating func release(_ n: Int, answered: Bool, now: NIODeadline) -> Bool {
        depth = max(0, depth - n)
        if answered { owedSince = now }
        guard holding, depth <= holdMark / 2 else { return false }
        holding = false
        return true
    }

    /// A held session waited `stallAfter`: true when the mirror is stuck and holding stops.
    mutating func checkStall(now: NIODeadline) -> Bool {
        guard holding, stuck(now) else { return false }
        holding = false
        return true
    }
}
