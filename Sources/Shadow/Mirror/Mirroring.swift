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
