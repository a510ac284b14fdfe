/// Caps that keep hostile or broken input from exhausting memory; every RESP reader checks them
/// on a header line, before the bytes it announces are buffered or anything is allocated.
public struct RESPLimits: Sendable, Hashable {
    /// Longest bulk string accepted, in bytes.
    public var maxBulkLength: Int
    /// Most elements in one aggregate (a map's pairs count once).
    public var maxArrayLength: Int
    /// Deepest nesting of aggregates; a top-level array is depth 1.
    public var maxDepth: Int
    /// Longest header line (status, error, integer, length).
    public var maxLineLength: Int

    public init(
        maxBulkLength: Int = 512 * 1024 * 1024,
        maxArrayLength: Int = 16 * 1024 * 1024,
        maxDepth: Int = 512,
        maxLineLength: Int = 64 * 1024
    ) {
        self.maxBulkLength = maxBulkLength
        self.maxArrayLength = maxArrayLength
        self.maxDepth = maxDepth
        self.maxLineLength = maxLineLength
    }

    /// Generous caps for replies from a server we chose to talk to, when their values are built.
    public static let server = RESPLimits()
    /// Tighter caps for commands from clients we do not control.
    public static let client = RESPLimits(maxBulkLength: 512 * 1024 * 1024, maxArrayLength: 1024 * 1024, maxDepth: 1)
    /// Caps for replies that are only framed and relayed, never built (the shadow's hot path): as
    /// large as a server sends; the depth cap only bounds the scanner's own bookkeeping.
    public static let relay = RESPLimits(
        maxBulkLength: Int(Int32.max) - 1, maxArrayLength: Int(Int32.max) - 1, maxDepth: 1 << 16, maxLineLength: 64 * 1024)
}
