/// Frames a client's byte stream into commands the way redis-server's networking.c does, so the
/// proxy accepts exactly what Redis accepts and refuses the rest with Redis's own error text:
/// `*-10` and `*0` are skipped, a bulk's trailing two bytes are skipped unchecked, unauthenticated
/// clients get the small limits (10 arguments, 16 KB bulks), inline lines follow `InlineArguments`.
///
/// Incremental and copy-free: it is handed the unconsumed bytes (starting at a command's first byte)
/// each time more arrive and resumes where it stopped; a partial command's bytes are never copied.
public struct RequestParser: Sendable {
    /// How much one client may send.
    public struct Limits: Sendable, Equatable {
        /// Longest bulk argument (redis-server's `proto-max-bulk-len`).
        public var maxBulk: Int
        /// Largest request (one command's bytes, all arguments together).
        public var maxRequest: Int
        /// Largest multibulk count (redis-server's own cap).
        public var maxMultibulk: Int

        public init(maxBulk: Int = 512 * 1024 * 1024, maxRequest: Int = 512 * 1024 * 1024, maxMultibulk: Int = Int(Int32.max)) {
            self.maxBulk = maxBulk
            self.maxRequest = maxRequest
            self.maxMultibulk = maxMultibulk
        }

        public static let unauthenticatedMultibulk = 10
        public static let unauthenticatedBulk = 16 * 1024
        public static let maxInline = 64 * 1024
    }

    /// One framed command, `length` bytes from the start of what was handed in.
    public enum Frame: Equatable, Sendable {
        /// A RESP array of bulk strings: forwarded as it came. `name` is the first argument's position.
        case multibulk(length: Int, count: Int, name: Range<Int>)
        /// An inline line, already split into arguments (never empty).
        case inline(length: Int, arguments: [[UInt8]])
        /// Bytes redis-server reads and ignores: `*0`, `*-10`, an empty line.
        case ignored(length: Int)
    }

    public let limits: Limits
    /// The client has logged in (or the primary needs no login): the small limits no longer apply.
    public var authenticated: Bool

    private var remaining = 0
    private var count = 0
    private var position = 0
    private var bulk = -1
    private var name: Range<Int> = 0..<0
    /// Bytes the partial command needs in all, when known: the caller reserves room for them once.
    public private(set) var wanted = 0

    public init(limits: Limits, authenticated: Bool) {
        self.limits = limits
        self.authenticated = authenticated
    }

    /// True while a command is partly read.
    public var inCommand: Bool { remaining > 0 }

    /// The next command at the start of `bytes`, nil when more bytes are needed.
    public mutating func next(_ bytes: UnsafeRawBufferPointer) throws(ProtocolFailure) -> Frame? {
        if remaining == 0 {
            guard let first = bytes.first else { return nil }
            if first != UInt8(ascii: "*") { return try inline(bytes) }
            guard let r = Self.find(13, in: bytes, from: 1) else {
                if bytes.count > Limits.maxInline { throw .tooBigMultibulkCount }
                return nil
            }
            guard r + 1 < bytes.count else { return nil }
            guard let n = RedisInteger.parse(bytes, 1..<r), n <= Int64(limits.maxMultibulk) else { throw .invalidMultibulkLength }
            if n > Int64(Limits.unauthenticatedMultibulk) && !authenticated { throw .unauthenticatedMultibulkLength }
            if n <= 0 { return .ignored(length: r + 2) }
            remaining = Int(n)
            count = Int(n)
            position = r + 2
            bulk = -1
            wanted = 0
        }
        while remaining > 0 {
            if bulk < 0 {
                guard let r = Self.find(13, in: bytes, from: position) else {
                    if bytes.count - position > Limits.maxInline { throw reset(.tooBigBulkCount) }
                    return nil
                }
                guard r + 1 < bytes.count else { return nil }
                let marker = bytes[position]
                guard marker == UInt8(ascii: "$") else { throw reset(.expectedDollar(marker)) }
                guard let n = RedisInteger.parse(bytes, position + 1..<r), n >= 0, n <= Int64(limits.maxBulk) else {
                    throw reset(.invalidBulkLength)
                }
                if n > Int64(Limits.unauthenticatedBulk) && !authenticated { throw reset(.unauthenticatedBulkLength) }
                position = r + 2
                bulk = Int(n)
                wanted = position + bulk + 2
                if wanted > limits.maxRequest { throw reset(.requestTooLarge(limits.maxRequest)) }
            }
            guard bytes.count - position >= bulk + 2 else { return nil }
            if remaining == count { name = position..<(position + bulk) }
            position += bulk + 2
            bulk = -1
            remaining -= 1
        }
        let frame = Frame.multibulk(length: position, count: count, name: name)
        wanted = 0
        return frame
    }

    private mutating func reset(_ failure: ProtocolFailure) -> ProtocolFailure {
        remaining = 0
        bulk = -1
        wanted = 0
        return failure
    }

    private func inline(_ bytes: UnsafeRawBufferPointer) throws(ProtocolFailure) -> Frame? {
        guard let newline = Self.find(10, in: bytes, from: 0) else {
            if bytes.count > Limits.maxInline { throw .tooBigInlineRequest }
            return nil
        }
        var end = newline
        if end > 0 && bytes[end - 1] == 13 { end -= 1 }
        guard let arguments = InlineArguments.split(UnsafeRawBufferPointer(rebasing: bytes[0..<end])) else {
            throw .unbalancedQuotes
        }
        if arguments.isEmpty { return .ignored(length: newline + 1) }
        return .inline(length: newline + 1, arguments: arguments)
    }

    /// Where `byte` first occurs from `start`, nil when it does not or a NUL comes first: redis-server
    /// searches its query buffer with `strchr`.
    public static func find(_ byte: UInt8, in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var i = start
        let n = bytes.count
        while i < n {
            let c = bytes[i]
            if c == byte { return i }
            if c == 0 { return nil }
            i += 1
        }
        return nil
    }

    /// The arguments of a multibulk command framed at the start of `bytes` (its `length` bytes).
    public static func arguments(_ bytes: UnsafeRawBufferPointer, count: Int) -> [[UInt8]] {
        var out: [[UInt8]] = []
        out.reserveCapacity(count)
        guard var i = find(13, in: bytes, from: 1).map({ $0 + 2 }) else { return out }
        for _ in 0..<count {
            guard let r = find(13, in: bytes, from: i), let n = RedisInteger.parse(bytes, i + 1..<r) else { break }
            let start = r + 2
            out.append(Array(bytes[start..<(start + Int(n))]))
            i = start + Int(n) + 2
        }
        return out
    }
}
