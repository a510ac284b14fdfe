import CHiredis

/// One whole RESP frame: its value and its exact bytes.
public struct RESPFrame: Sendable, Hashable {
    /// The value, in RESP2 shapes (see `RESPParser`).
    public var value: RESPValue
    /// The bytes as they came.
    public var bytes: [UInt8]
    /// An out-of-band RESP3 push (pub/sub message, invalidation), not a reply to a command.
    public var isPush: Bool
}

/// The RESP reader every module uses: feed bytes, take whole values. RESP2 and RESP3, at any depth
/// up to `RESPLimits.maxDepth`; nil while a frame is incomplete, a throw on malformed or capped input.
///
/// `RESPFrameScanner` finds each frame's end and checks the caps on its header lines; hiredis 0.14
/// builds the values it can read (RESP2, nested at most 7 deep), `RESPFrameDecoder` the rest.
/// RESP3 values come out in RESP2 shapes (maps flattened, doubles as bulk strings, booleans as 0/1):
/// the shapes a RESP2 connection gets for the same command.
///
/// Not thread-safe: one owner (a channel handler, a connection) at a time.
public final class RESPParser {
    /// The caps this parser was made with.
    public let limits: RESPLimits
    private var buffer: [UInt8] = []
    /// Where the next frame starts in `buffer`.
    private var start = 0
    /// How far the scanner has read in `buffer`.
    private var scanned = 0
    private var scanner: RESPFrameScanner
    private var reader: UnsafeMutablePointer<redisReader>?
    private var failed: RESPParseError?

    public init(limits: RESPLimits = .server) {
        self.limits = limits
        self.scanner = RESPFrameScanner(limits: limits)
    }

    deinit { upshift_reader_free(reader) }

    /// Hands bytes to the parser; they are copied.
    public func feed(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty, failed == nil else { return }
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// Hands bytes to the parser.
    public func feed(_ bytes: [UInt8]) {
        guard failed == nil else { return }
        compact()
        if buffer.isEmpty { buffer = bytes } else { buffer.append(contentsOf: bytes) }
    }

    /// The next complete value, nil when more bytes are needed; throws on malformed or capped input.
    /// After a throw the parser stays failed: the stream cannot be resynchronised.
    public func next() throws(RESPParseError) -> RESPValue? {
        try read(keepingBytes: false)?.value
    }

    /// The next complete frame with its bytes; nil when more bytes are needed, throws as `next()`.
    public func nextFrame() throws(RESPParseError) -> RESPFrame? {
        try read(keepingBytes: true)
    }

    /// Every complete value fed so far.
    public func drain() throws(RESPParseError) -> [RESPValue] {
        var out: [RESPValue] = []
        while let v = try next() { out.append(v) }
        return out
    }

    /// The value of the whole frame `bytes` hold (one reply, as a proxy framed it); nil when they
    /// are not exactly one frame or break the caps.
    public static func value(ofFrame bytes: UnsafeRawBufferPointer, limits: RESPLimits = .server) -> RESPValue? {
        if let common = commonValue(bytes) { return common }
        guard let decoded = try? RESPFrameDecoder.decode(bytes, limits: limits), decoded.length == bytes.count else { return nil }
        return decoded.value
    }

    private func read(keepingBytes: Bool) throws(RESPParseError) -> RESPFrame? {
        if let failed { throw failed }
        let result = buffer.withUnsafeBytes { all -> Result<(frame: RESPFrame, length: Int)?, RESPParseError> in
            do throws(RESPParseError) {
                let pending = UnsafeRawBufferPointer(rebasing: all[start...])
                guard let frame = try scanner.next(pending, from: scanned - start) else {
                    scanned = all.count
                    return .success(nil)
                }
                let bytes = UnsafeRawBufferPointer(rebasing: pending[0..<frame.end])
                let value: RESPValue
                if let common = Self.commonValue(bytes) {
                    value = common
                } else {
                    value = try frame.isPlainRESP2 ? hiredisValue(bytes) : swiftValue(bytes)
                }
                return .success((RESPFrame(value: value, bytes: keepingBytes ? Array(bytes) : [], isPush: frame.isPush), frame.end))
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .failure(let error):
            failed = error
            buffer = []
            start = 0
            scanned = 0
            throw error
        case .success(nil):
            return nil
        case .success(let found?):
            start += found.length
            scanned = start
            // A large frame's bytes are not kept waiting for the next feed.
            if start == buffer.count && buffer.capacity > 1 << 20 { compact() }
            return found.frame
        }
    }

    /// `+OK` and integers, the replies to most writes, when `bytes` are exactly one of them: through
    /// hiredis each was its reply object and a copy of its bytes, two allocations per mirrored SET
    /// (perf, pipelined SETs), and a decoded `+OK` an allocation per proxied write.
    private static func commonValue(_ bytes: UnsafeRawBufferPointer) -> RESPValue? {
        guard bytes.count >= 4, bytes[bytes.count - 2] == UInt8(ascii: "\r"), bytes[bytes.count - 1] == UInt8(ascii: "\n") else {
            return nil
        }
        switch bytes[0] {
        case UInt8(ascii: "+"):
            return bytes.count == 5 && bytes[1] == UInt8(ascii: "O") && bytes[2] == UInt8(ascii: "K") ? .ok : nil
        case UInt8(ascii: ":"):
            return RedisInteger.parse(bytes, 1..<bytes.count - 2).map(RESPValue.integer)
        default:
            return nil
        }
    }

    private func swiftValue(_ bytes: UnsafeRawBufferPointer) throws(RESPParseError) -> RESPValue {
        guard let decoded = try RESPFrameDecoder.decode(bytes, limits: limits), decoded.length == bytes.count else {
            throw .malformed("frame ends where the scanner did not")
        }
        return decoded.value
    }

    private func hiredisValue(_ bytes: UnsafeRawBufferPointer) throws(RESPParseError) -> RESPValue {
        if reader == nil {
            guard let r = upshift_reader_create() else { fatalError("out of memory creating a RESP reader") }
            reader = r
        }
        let r = reader!
        _ = redisReaderFeed(r, bytes.baseAddress!.assumingMemoryBound(to: CChar.self), bytes.count)
        var raw: UnsafeMutableRawPointer?
        guard redisReaderGetReply(r, &raw) == REDIS_OK else {
            throw .malformed(String(cString: upshift_reader_errstr(r)))
        }
        guard let raw else { throw .malformed("hiredis did not read a whole frame") }
        defer {
            freeReplyObject(raw)
            // hiredis keeps its buffer's size until the next feed: a large frame's copy goes now.
            if bytes.count > 1 << 20 {
                upshift_reader_free(r)
                reader = nil
            }
        }
        return Self.convert(raw.assumingMemoryBound(to: redisReply.self))
    }

    /// Drops the bytes of frames already read once they are the larger part of the buffer.
    private func compact() {
        guard start > 0 else { return }
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 1 << 20)
        } else if start >= 64 * 1024 && start * 2 >= buffer.count {
            buffer.removeFirst(start)
        } else {
            return
        }
        scanned -= start
        start = 0
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
