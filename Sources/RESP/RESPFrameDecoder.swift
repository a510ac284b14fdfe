/// Builds the value of one frame in pure Swift: the path for what hiredis 0.14 cannot read (RESP3
/// types, nesting deeper than 7). Values come out in RESP2 shapes — maps flattened to arrays,
/// sets and pushes as arrays, doubles and big numbers as bulk strings, booleans as 0/1, verbatim
/// strings without their format prefix, attributes dropped — the shapes a RESP2 client would get.
///
/// Iterative, so depth costs heap, not stack; every length is checked against the limits before use.
enum RESPFrameDecoder {
    private enum Kind {
        case array, push, attribute
    }
    private struct Level {
        var kind: Kind
        var remaining: Int
        var elements: [RESPValue]
    }

    /// The value of the frame at the start of `bytes`, its length and whether it is a push; nil
    /// when the frame is not whole.
    static func decode(_ bytes: UnsafeRawBufferPointer, limits: RESPLimits) throws(RESPParseError) -> (
        value: RESPValue, length: Int, isPush: Bool
    )? {
        var stack: [Level] = []
        var i = 0
        var isPush = false
        while true {
            guard i < bytes.count else { return nil }
            let type = bytes[i]
            guard let lineEnd = crlf(bytes, from: i + 1) else {
                if bytes.count - i > limits.maxLineLength + 2 { throw RESPParseError(code: .lineTooLong(limit: limits.maxLineLength)) }
                return nil
            }
            let line = UnsafeRawBufferPointer(rebasing: bytes[(i + 1)..<lineEnd])
            if line.count > limits.maxLineLength { throw RESPParseError(code: .lineTooLong(limit: limits.maxLineLength)) }
            i = lineEnd + 2
            var value: RESPValue
            switch type {
            case UInt8(ascii: "+"): value = .simpleString(Array(line))
            case UInt8(ascii: "-"): value = .error(Array(line))
            case UInt8(ascii: ":"):
                guard let n = RedisInteger.parse(line, 0..<line.count) else { throw .malformed("bad integer") }
                value = .integer(n)
            case UInt8(ascii: ","), UInt8(ascii: "("): value = .bulkString(Array(line))
            case UInt8(ascii: "#"): value = .integer(line.count == 1 && line[0] == UInt8(ascii: "t") ? 1 : 0)
            case UInt8(ascii: "_"): value = .null
            case UInt8(ascii: "$"), UInt8(ascii: "="), UInt8(ascii: "!"):
                let n = try length(line)
                if n < 0 {
                    value = .null
                    break
                }
                if n > limits.maxBulkLength { throw RESPParseError(code: .bulkTooLong(declared: Int64(n), limit: limits.maxBulkLength)) }
                guard bytes.count - i >= n + 2 else { return nil }
                var body = Array(bytes[i..<(i + n)])
                i += n + 2
                if type == UInt8(ascii: "!") {
                    value = .error(body)
                } else {
                    if type == UInt8(ascii: "="), body.count >= 4 { body.removeFirst(4) }  // "txt:" format prefix
                    value = .bulkString(body)
                }
            case UInt8(ascii: "*"), UInt8(ascii: "%"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "|"):
                var n = try length(line)
                if n > limits.maxArrayLength { throw RESPParseError(code: .arrayTooLong(limit: limits.maxArrayLength)) }
                if stack.count + 1 > limits.maxDepth { throw RESPParseError(code: .tooDeep(limit: limits.maxDepth)) }
                if type == UInt8(ascii: ">") && stack.isEmpty { isPush = true }
                if n < 0 {
                    value = .array(nil)
                    break
                }
                if type == UInt8(ascii: "%") || type == UInt8(ascii: "|") { n *= 2 }
                let kind: Kind = type == UInt8(ascii: "|") ? .attribute : type == UInt8(ascii: ">") ? .push : .array
                if n == 0 {
                    if kind == .attribute { continue }
                    value = .array([])
                    break
                }
                stack.append(Level(kind: kind, remaining: n, elements: []))
                stack[stack.count - 1].elements.reserveCapacity(min(n, 1024))
                continue
            default:
                throw .malformed("unexpected type byte \(type)")
            }
            // Fold the finished value into its parents; a finished top-level value is the frame's.
            var pending: RESPValue? = value
            while let v = pending {
                guard let last = stack.indices.last else { return (v, i, isPush) }
                stack[last].elements.append(v)
                stack[last].remaining -= 1
                pending = nil
                guard stack[last].remaining == 0 else { break }
                let level = stack.removeLast()
                // Attributes annotate what follows them; they are not elements.
                if level.kind == .attribute { break }
                pending = .array(level.elements)
            }
        }
    }

    private static func length(_ line: UnsafeRawBufferPointer) throws(RESPParseError) -> Int {
        guard let n = RedisInteger.parse(line, 0..<line.count), n >= -1 else { throw .malformed("bad length") }
        return Int(n)
    }

    /// The index of the next CRLF's `\r` from `start`.
    private static func crlf(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var i = start
        while i + 1 < bytes.count {
            if bytes[i] == 13 && bytes[i + 1] == 10 { return i }
            i += 1
        }
        return nil
    }
}
