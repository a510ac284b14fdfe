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

    static func malformed(_ why: String) -> RESPParseError { RESPParseError(code: .malformed(why)) }

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
