/// One RESP2 value, owned and binary-safe: what a Redis server or client sends.
public enum RESPValue: Sendable, Hashable {
    /// `+OK`: a status line.
    case simpleString([UInt8])
    /// `-ERR …`: an error reply; the text is kept verbatim.
    case error([UInt8])
    /// `:42`
    case integer(Int64)
    /// `$3 foo`, or `$-1` when nil.
    case bulkString([UInt8]?)
    /// `*2 …`, or `*-1` when nil.
    case array([RESPValue]?)

    /// The null bulk string `$-1`, the usual "no such key".
    public static let null = RESPValue.bulkString(nil)

    /// `+OK`.
    public static let ok = RESPValue.simpleString(Array("OK".utf8))

    /// A bulk string from text.
    public static func bulk(_ text: String) -> RESPValue { .bulkString(Array(text.utf8)) }

    /// True for an error reply.
    public var isError: Bool {
        if case .error = self { return true }
        return false
    }

    /// True for `$-1` and `*-1`.
    public var isNull: Bool {
        switch self {
        case .bulkString(nil), .array(nil): return true
        default: return false
        }
    }

    /// The bytes of a simple or bulk string, nil otherwise: an error's text is never data.
    public var bytes: [UInt8]? {
        switch self {
        case .simpleString(let b), .bulkString(let b?): return b
        default: return nil
        }
    }

    /// The text of an error reply, nil for any other reply.
    public var errorText: [UInt8]? {
        if case .error(let b) = self { return b }
        return nil
    }

    /// The integer of an integer reply, or of a string that holds one.
    public var integer: Int64? {
        switch self {
        case .integer(let i): return i
        case .bulkString(let b?), .simpleString(let b): return Int64(String(decoding: b, as: UTF8.self))
        default: return nil
        }
    }

    /// The elements of a non-nil array.
    public var array: [RESPValue]? {
        if case .array(let a?) = self { return a }
        return nil
    }

    /// The text of a string or error reply, for people (invalid UTF-8 replaced).
    public var text: String? { (bytes ?? errorText).map { String(decoding: $0, as: UTF8.self) } }
}

extension RESPValue: CustomStringConvertible {
    /// A short human rendering, like redis-cli's, for logs and messages.
    public var description: String {
        switch self {
        case .simpleString(let b): return String(decoding: b, as: UTF8.self)
        case .error(let b): return "(error) " + String(decoding: b, as: UTF8.self)
        case .integer(let i): return "(integer) \(i)"
        case .bulkString(nil), .array(nil): return "(nil)"
        case .bulkString(let b?): return "\"" + String(decoding: b, as: UTF8.self) + "\""
        case .array(let a?): return "[" + a.map(\.description).joined(separator: ", ") + "]"
        }
    }
}
