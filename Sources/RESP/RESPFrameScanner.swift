/// Finds where each RESP frame ends, RESP2 and RESP3 alike, without copying or building values:
/// a proxy passes a server's bytes on as they arrive and only needs to know which reply each byte
/// belongs to, and `RESPParser` uses it to know a frame is whole before it reads it.
///
/// Streaming: it keeps its place between chunks (an open aggregate, a bulk body half read, a header
/// line cut in two), so a frame of any size costs only a counter per open level. Every count, length
/// and depth is checked against `RESPLimits` on its header line, before what it announces arrives.
public struct RESPFrameScanner: Sendable {
    /// One complete frame.
    public struct Frame: Sendable, Hashable {
        /// The index just past the frame's last byte, in the bytes it was found in.
        public var end: Int
        /// An out-of-band RESP3 push (pub/sub message, invalidation), not a reply to a command.
        public var isPush: Bool
        /// An error reply (`-` or RESP3's `!`).
        public var isError: Bool
        /// RESP2 only and nested at most `RESPFrameScanner.hiredisDepth`: hiredis can read it.
        public var isPlainRESP2: Bool
    }

    /// The deepest nesting hiredis 0.14 reads.
    public static let hiredisDepth = 7

    private enum Kind: UInt8 {
        case array, push, attribute
    }
    private struct Level {
        var kind: Kind
        var remaining: Int
    }

    public let limits: RESPLimits
    private var levels: [Level] = []
    /// A header line cut by the end of a chunk: its first part.
    private var partialLine: [UInt8] = []
    /// Bytes of a bulk body (with its CRLF) still to pass over.
    private var skip = 0
    /// The frame being scanned is a RESP3 push (out of band).
    private var pushing = false
    /// The frame being scanned has a RESP3 type or is nested deeper than hiredis reads.
    private var beyondRESP2 = false
    /// The type byte of the frame's value (past any attribute before it).
    private var topType: UInt8 = 0

    public init(limits: RESPLimits = .relay) {
        self.limits = limits
    }

    /// True between frames.
    public var atBoundary: Bool { levels.isEmpty && partialLine.isEmpty && skip == 0 }

    /// Scans from `start`; returns the next complete frame, or nil when the bytes run out first
    /// (the place is kept: call again with the bytes that follow, from their start).
    public mutating func next(_ bytes: UnsafeRawBufferPointer, from start: Int) throws(RESPParseError) -> Frame? {
        var i = start
        let n = bytes.count
        while true {
            if skip > 0 {
                let take = min(skip, n - i)
                skip -= take
                i += take
                if skip > 0 { return nil }
                if complete() { return finish(i) }
                continue
            }
            guard i < n else { return nil }
            // One header line: a type byte, text, CRLF.
            let done: Bool
            if partialLine.isEmpty {
                guard let nl = Self.newline(bytes, from: i) else {
                    partialLine = Array(bytes[i..<n])
                    if partialLine.count > limits.maxLineLength + 1 {
                        throw RESPParseError(code: .lineTooLong(limit: limits.maxLineLength))
                    }
                    return nil
                }
                done = try header(UnsafeRawBufferPointer(rebasing: bytes[i..<(nl - 1)]))
                i = nl + 1
            } else {
                guard let nl = Self.newline(bytes, from: i, after: partialLine.last) else {
                    partialLine += bytes[i..<n]
                    if partialLine.count > limits.maxLineLength + 1 {
                        throw RESPParseError(code: .lineTooLong(limit: limits.maxLineLength))
                    }
                    return nil
                }
                var joined = partialLine + bytes[i...nl]
                partialLine = []
                i = nl + 1
                joined.removeLast(2)
                var result: Result<Bool, RESPParseError> = .success(false)
                joined.withUnsafeBytes { raw in
                    do throws(RESPParseError) { result = .success(try header(raw)) } catch { result = .failure(error) }
                }
                done = try result.get()
            }
            if done, complete() { return finish(i) }
        }
    }

    private mutating func finish(_ end: Int) -> Frame {
        let frame = Frame(
            end: end, isPush: pushing, isError: topType == UInt8(ascii: "-") || topType == UInt8(ascii: "!"), isPlainRESP2: !beyondRESP2)
        pushing = false
        beyondRESP2 = false
        return frame
    }

    /// Reads one header line (without its CRLF); true when it completed a value (a scalar, an
    /// empty or null aggregate).
    private mutating func header(_ line: UnsafeRawBufferPointer) throws(RESPParseError) -> Bool {
        guard let type = line.first else { throw .malformed("empty line") }
        if line.count - 1 > limits.maxLineLength { throw RESPParseError(code: .lineTooLong(limit: limits.maxLineLength)) }
        if levels.isEmpty && type != UInt8(ascii: "|") { topType = type }
        switch type {
        case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: ":"):
            return true
        case UInt8(ascii: ","), UInt8(ascii: "("), UInt8(ascii: "#"), UInt8(ascii: "_"):
            beyondRESP2 = true
            return true
        case UInt8(ascii: "$"), UInt8(ascii: "="), UInt8(ascii: "!"):
            if type != UInt8(ascii: "$") { beyondRESP2 = true }
            let count = try Self.count(line)
            if count < 0 { return true }
            if count > limits.maxBulkLength {
                throw RESPParseError(code: .bulkTooLong(declared: Int64(count), limit: limits.maxBulkLength))
            }
            skip = count + 2
            return false
        case UInt8(ascii: "*"), UInt8(ascii: "%"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "|"):
            if type != UInt8(ascii: "*") { beyondRESP2 = true }
            var count = try Self.count(line)
            if count > limits.maxArrayLength { throw RESPParseError(code: .arrayTooLong(limit: limits.maxArrayLength)) }
            let depth = levels.count + 1
            if depth > limits.maxDepth { throw RESPParseError(code: .tooDeep(limit: limits.maxDepth)) }
            if depth > Self.hiredisDepth { beyondRESP2 = true }
            if type == UInt8(ascii: ">") && levels.isEmpty { pushing = true }
            if count <= 0 { return type != UInt8(ascii: "|") }
            if type == UInt8(ascii: "%") || type == UInt8(ascii: "|") { count *= 2 }
            let kind: Kind = type == UInt8(ascii: "|") ? .attribute : type == UInt8(ascii: ">") ? .push : .array
            levels.append(Level(kind: kind, remaining: count))
            return false
        default:
            throw .malformed("unexpected type byte \(type)")
        }
    }

    /// A value just completed: folds it into its parents; true when a whole frame is done.
    private mutating func complete() -> Bool {
        while let last = levels.indices.last {
            levels[last].remaining -= 1
            if levels[last].remaining > 0 { return false }
            // An attribute annotates the value after it: it is not a value of its own.
            if levels.removeLast().kind == .attribute { return false }
        }
        return true
    }

    /// A length or count: -1 (null) or more, by Redis's integer rules (the caps are checked by the caller).
    static func count(_ line: UnsafeRawBufferPointer) throws(RESPParseError) -> Int {
        guard line.count > 1, let n = RedisInteger.parse(line, 1..<line.count), n >= -1 else { throw .malformed("bad length") }
        return Int(n)
    }

    /// The index of the `\n` of the next CRLF from `start`; `after` is the byte before `start` (a line cut in two).
    private static func newline(_ bytes: UnsafeRawBufferPointer, from start: Int, after previous: UInt8? = nil) -> Int? {
        var i = start
        let n = bytes.count
        while i < n {
            if bytes[i] == 10 {
                let before = i > start ? bytes[i - 1] : previous
                if before == 13 { return i }
            }
            i += 1
        }
        return nil
    }
}
