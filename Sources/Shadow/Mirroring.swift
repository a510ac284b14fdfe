import RESP

/// What the engine is handed once the primary has answered.
enum Mirroring {
    /// Run this on the mirror side and compare.
    case item(MirrorRequest)
    /// A write the mirror will not see, recorded as such; `diverges`: its keys are the mirror's too
    /// (the home database), so they are listed for reconcile.
    case unmirrored(command: String, keys: [[UInt8]], why: String, diverges: Bool)
    /// Keys that may differ now (a transaction that could not be mirrored whole).
    case divergent([[UInt8]])
    /// A command Upstash does not serve over REST, counted.
    case incompatible(String)
    /// A client closed for an unreadable request; no byte of it is kept.
    case protocolError(String)
    /// A connection became a replication stream, passed through unread.
    case replication(String)
}

/// One unit of mirror work as the session hands it over.
struct MirrorRequest {
    var unit: MirrorItem.Unit
    var traits: [CommandTraits]
    /// Every key the unit touches.
    var keys: [[UInt8]]
    /// The mirror's expected reply (the primary's, or the effect's).
    var expected: RESPValue?
    var isWrite: Bool
    var resp3: Bool
    var retryWhenEmpty: Bool
    /// Dual-write: the reply held until the mirror settles this token.
    var token: UInt64?
}
