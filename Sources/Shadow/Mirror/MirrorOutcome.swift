import RESP

/// What the mirror side did with an item.
enum MirrorOutcome: Sendable {
    case reply(RESPValue)
    /// Not reachable, or no reply in time; the text is free of secrets.
    case unavailable(String)
    /// Never sent: the queue was full, or shutdown's deadline passed.
    case dropped
}
