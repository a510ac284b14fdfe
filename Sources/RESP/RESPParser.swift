import CHiredis

/// Why RESP input was refused.
public struct RESPParseError: Error, Sendable, Hashable, CustomStringConvertible {
    enum Code: Sendable, Hashable {
        case malformed(String)
        case bulkTooLong(declared: Int64, limit: Int)
        case arrayTooLong(limit: Int)
        case tooDeep(limit: Int)
        case lineTooLong(limit: Int)
    }
    let code: Code

    /// A one-line explanation for people.
    public var description: String {
        switch code {
        case .malformed(let why): return "malformed RESP: \(why)"
        case .bulkTooLong(let declared, let limit):
            return "RESP bulk string of \(declared) bytes exceeds the limit of \(limit) bytes"
        case .arrayTooLong(let limit): return "RESP array exceeds the limit of \(limit) elements"
        case .tooDeep(let limit): return "RESP nesting exceeds the depth limit of \(limit)"
        case .lineTooLong(let limit): return "RESP line exceeds \(limit) bytes without CRLF"
        }
    }

    /// True when the input broke a configured cap rather than the grammar.
    public var isLimit: Bool {
        if case .malformed = code { return false }
        return true
    }
}

/// An incremental RESP2 parser over hiredis's reader: feed bytes, take whole values.
///
/// Not thread-safe: one owner (a channel handler, a connection) at a time.
public final class RESPParser {
    /// Caps that keep hostile input from exhausting memory.
    public struct Limits: Sendable, Hashable {
        /// Longest bulk string accepted, in bytes.
        public var maxBulkLength: Int
        /// Most elements in one array.
        public var maxArrayLength: Int
        /// Deepest nesting of arrays (hiredis itself stops at 7).
        public var maxDepth: Int
        /// Longest status, error or integer line.
        public var maxLineLength: Int

        public init(
            maxBulkLength: Int = 512 * 1024 * 1024,
            maxArrayLength: Int = 16 * 1024 * 1024,
            maxDepth: Int = 7,
            maxLineLength: Int = 64 * 1024
        ) {
            self.maxBulkLength = maxBulkLength
            self.maxArrayLength = maxArrayLength
            self.maxDepth = min(maxDepth, 7)
            self.maxLineLength = maxLineLength
        }

        /// Generous caps for replies from a server we chose to talk to.
        public static let server = Limits()
        /// Tighter caps for commands from clients we do not control.
        public static let client = Limits(maxBulkLength: 512 * 1024 * 1024, maxArrayLength: 1024 * 1024, maxDepth: 1)
    }

    public let limits: Limits
    private let reader: UnsafeMutablePointer<redisReader>
    private var failed: RESPParseError?

    public init(limits: Limits = .server) {
        self.limits = limits
        guard let r = upshift_reader_create(Int64(limits.maxArrayLength), Int32(limits.maxDepth)) else {
            fatalError("out of memory creating a RESP reader")
        }
        self.reader = r
    }

    deinit { upshift_reader_free(reader) }

    /// Hands bytes to the parser; they are copied.
    public func feed(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty, let base = bytes.baseAddress else { return }
        _ = redisReaderFeed(reader, base.assumingMemoryBound(to: CChar.self), bytes.count)
    }

    /// Hands bytes to the parser.
    public func feed(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { feed($0) }
    }

    /// The next complete value, nil when more bytes are needed; throws on malformed or capped input.
    /// After a throw the parser stays failed: the stream cannot be resynchronised.
    public func next() throws(RESPParseError) -> RESPValue? {
        if let failed { throw failed }
        var raw: UnsafeMutableRawPointer?
        if redisReaderGetReply(reader, &raw) != REDIS_OK {
            throw fail(violationError() ?? RESPParseError(code: .malformed(String(cString: upshift_reader_errstr(reader)))))
        }
        guard let raw else {
            try checkPending()
            return nil
        }
        defer { freeReplyObject(raw) }
        return Self.convert(raw.assumingMemoryBound(to: redisReply.self))
    }

    /// Every complete value fed so far.
    public func drain() throws(RESPParseError) -> [RESPValue] {
        var out: [RESPValue] = []
        while let v = try next() { out.append(v) }
        return out
    }

    private func fail(_ e: RESPParseError) -> RESPParseError {
        failed = e
        return e
    }

    private func violationError() -> RESPParseError? {
        switch upshift_reader_violation(reader) {
        case 1: return RESPParseError(code: .arrayTooLong(limit: limits.maxArrayLength))
        case 2: return RESPParseError(code: .tooDeep(limit: limits.maxDepth))
        default: return nil
        }
    }

    /// hiredis waits for a whole bulk string before it looks at it; refuse an oversized
    /// declared length, or a line that never ends, before buffering it.
    private func checkPending() throws(RESPParseError) {
        var len = 0
        guard let start = upshift_reader_pending(reader, &len), len > 0 else { return }
        let pending = UnsafeRawBufferPointer(start: start, count: len)
        let scanLimit = min(len, limits.maxLineLength + 2)
        var lineEnd: Int? = nil
        var i = 0
        while i + 1 < scanLimit {
            if pending[i] == 13 && pending[i + 1] == 10 {
                lineEnd = i
                break
            }
            i += 1
        }
        guard let lineEnd else {
            if len > limits.maxLineLength { throw fail(RESPParseError(code: .lineTooLong(limit: limits.maxLineLength))) }
            return
        }
        guard upshift_reader_current_type(reader) == REDIS_REPLY_STRING else { return }
        var declared: Int64 = 0
        for j in 0..<lineEnd {
            let d = pending[j]
            guard d >= 48 && d <= 57 else { return }  // "-1" and junk are hiredis's to judge
            let (m, o1) = declared.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(Int64(d - 48))
            if o1 || o2 { throw fail(RESPParseError(code: .bulkTooLong(declared: .max, limit: limits.maxBulkLength))) }
            declared = s
        }
        if declared > Int64(limits.maxBulkLength) {
            throw fail(RESPParseError(code: .bulkTooLong(declared: declared, limit: limits.maxBulkLength)))
        }
    }

    private static func convert(_ r: UnsafeMutablePointer<redisReply>) -> RESPValue {
        let reply = r.pointee
        switch reply.type {
        case REDIS_REPLY_STRING:
            return .bulkString(bytes(reply.str, reply.len))
        case REDIS_REPLY_STATUS:
            return .simpleString(bytes(reply.str, reply.len))
        case REDIS_REPLY_ERROR:
            return .error(bytes(reply.str, reply.len))
        case REDIS_REPLY_INTEGER:
            return .integer(reply.integer)
        case REDIS_REPLY_NIL:
            return reply.integer == 1 ? .array(nil) : .bulkString(nil)
        case REDIS_REPLY_ARRAY:
            var elements: [RESPValue] = []
            elements.reserveCapacity(reply.elements)
            for k in 0..<reply.elements {
                elements.append(convert(reply.element[k]!))
            }
            return .array(elements)
        default:
            return .error(Array("ERR unknown reply type \(reply.type)".utf8))
        }
    }

    private static func bytes(_ p: UnsafeMutablePointer<CChar>?, _ n: Int) -> [UInt8] {
        guard let p, n > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: p, count: n))
    }
}
