import NIOCore
import RESP

/// Splits a server's reply stream into whole replies, RESP2 and RESP3 alike, at any nesting depth.
///
/// Why not hiredis here: the system's hiredis (0.14) reads neither RESP3 (which clients such as
/// redis-py 8 ask for with HELLO 3) nor replies nested deeper than 7 (COMMAND DOCS, Lua tables),
/// and a proxy must relay both. Client input is still parsed by hiredis (`RESPParser`).
/// Values come out in RESP2 shapes (maps flattened, doubles as bulk strings, booleans as 0/1),
/// the shapes the mirror side answers in, together with the reply's exact bytes.
struct ReplyReader {
    /// One complete reply.
    struct Reply {
        /// The RESP2-shaped value.
        var value: RESPValue
        /// The bytes as the server sent them.
        var raw: ByteBuffer
        /// An out-of-band RESP3 push (pub/sub message, invalidation), not a reply to a command.
        var isPush: Bool
    }

    private enum Kind {
        case array, map, set, push, attribute
    }
    private struct Frame {
        var kind: Kind
        var remaining: Int
        var elements: [RESPValue]
    }

    private var buffer: ByteBuffer
    private var stack: [Frame] = []
    private var topStart: Int
    /// Deepest nesting accepted; a server never comes close.
    private let maxDepth = 512

    init() {
        buffer = ByteBufferAllocator().buffer(capacity: 0)
        topStart = 0
    }

    /// Hands bytes to the reader.
    mutating func feed(_ bytes: ByteBuffer) {
        var b = bytes
        buffer.writeBuffer(&b)
    }

    /// The next complete reply, nil when more bytes are needed; throws on bytes that are not RESP.
    mutating func next() throws(RESPReplyError) -> Reply? {
        while true {
            if stack.isEmpty { topStart = buffer.readerIndex }
            guard let token = try readToken() else { return nil }
            var value: RESPValue
            switch token {
            case .value(let v):
                value = v
            case .aggregate(let kind, let count):
                if count == 0 {
                    if kind == .attribute { continue }
                    value = .array([])
                    break
                }
                guard stack.count < maxDepth else { throw RESPReplyError("reply nested deeper than \(maxDepth)") }
                stack.append(Frame(kind: kind, remaining: kind == .map || kind == .attribute ? count * 2 : count, elements: []))
                continue
            }
            // Fold the finished value into its parents; a finished top-level value is a reply.
            var pending: RESPValue? = value
            var isPush = false
            while let v = pending {
                guard let last = stack.indices.last else { return finish(v, isPush: isPush) }
                stack[last].elements.append(v)
                stack[last].remaining -= 1
                pending = nil
                guard stack[last].remaining == 0 else { break }
                let frame = stack.removeLast()
                // Attributes annotate what follows them; they are not elements (their bytes stay in `raw`).
                if frame.kind == .attribute { break }
                isPush = frame.kind == .push
                pending = .array(frame.elements)
            }
        }
    }

    private mutating func finish(_ value: RESPValue, isPush: Bool) -> Reply {
        let end = buffer.readerIndex
        buffer.moveReaderIndex(to: topStart)
        let raw = buffer.readSlice(length: end - topStart) ?? ByteBuffer()
        if buffer.readerIndex > 64 * 1024 { buffer.discardReadBytes() }
        return Reply(value: value, raw: raw, isPush: isPush)
    }

    private enum Token {
        case value(RESPValue)
        case aggregate(Kind, Int)
    }

    /// One scalar or aggregate header; consumes nothing unless it is complete.
    private mutating func readToken() throws(RESPReplyError) -> Token? {
        let start = buffer.readerIndex
        guard let type = buffer.getInteger(at: start, as: UInt8.self) else { return nil }
        guard let lineEnd = findCRLF(from: start + 1) else {
            if buffer.readableBytes > 64 * 1024 { throw RESPReplyError("line longer than 64 KB") }
            return nil
        }
        let line = buffer.getBytes(at: start + 1, length: lineEnd - start - 1) ?? []
        let after = lineEnd + 2
        func number() throws(RESPReplyError) -> Int {
            guard let n = Int(String(decoding: line, as: UTF8.self)) else { throw RESPReplyError("bad length") }
            return n
        }
        var token: Token
        switch type {
        case UInt8(ascii: "+"): token = .value(.simpleString(line))
        case UInt8(ascii: "-"): token = .value(.error(line))
        case UInt8(ascii: ":"):
            guard let n = Int64(String(decoding: line, as: UTF8.self)) else { throw RESPReplyError("bad integer") }
            token = .value(.integer(n))
        case UInt8(ascii: ","), UInt8(ascii: "("): token = .value(.bulkString(line))
        case UInt8(ascii: "#"): token = .value(.integer(line == [UInt8(ascii: "t")] ? 1 : 0))
        case UInt8(ascii: "_"): token = .value(.null)
        case UInt8(ascii: "$"), UInt8(ascii: "="), UInt8(ascii: "!"):
            let n = try number()
            if n < 0 {
                token = .value(.null)
                break
            }
            guard buffer.writerIndex - after >= n + 2 else { return nil }
            var body = buffer.getBytes(at: after, length: n) ?? []
            buffer.moveReaderIndex(to: after + n + 2)
            if type == UInt8(ascii: "!") { return .value(.error(body)) }
            if type == UInt8(ascii: "="), body.count >= 4 { body.removeFirst(4) }  // "txt:" format prefix
            return .value(.bulkString(body))
        case UInt8(ascii: "*"), UInt8(ascii: "%"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "|"):
            let n = try number()
            if n < 0 {
                token = .value(.array(nil))
                break
            }
            let kind: Kind
            switch type {
            case UInt8(ascii: "%"): kind = .map
            case UInt8(ascii: "~"): kind = .set
            case UInt8(ascii: ">"): kind = .push
            case UInt8(ascii: "|"): kind = .attribute
            default: kind = .array
            }
            token = .aggregate(kind, n)
        default:
            throw RESPReplyError("unexpected type byte \(type)")
        }
        buffer.moveReaderIndex(to: after)
        return token
    }

    private func findCRLF(from index: Int) -> Int? {
        buffer.withUnsafeReadableBytes { raw -> Int? in
            let base = buffer.readerIndex
            var i = index - base
            while i + 1 < raw.count {
                if raw[i] == 13 && raw[i + 1] == 10 { return base + i }
                i += 1
            }
            return nil
        }
    }
}

/// Bytes from a server that are not RESP.
struct RESPReplyError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
