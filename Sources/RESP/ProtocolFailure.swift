/// Why a client's stream cannot be read further: the client gets `-ERR Protocol error: …` (Redis's
/// own words), then the connection is closed, as redis-server does.
public enum ProtocolFailure: Error, Equatable, Sendable {
    case tooBigInlineRequest
    case unbalancedQuotes
    case tooBigMultibulkCount
    case invalidMultibulkLength
    case unauthenticatedMultibulkLength
    case tooBigBulkCount
    case expectedDollar(UInt8)
    case invalidBulkLength
    case unauthenticatedBulkLength
    /// The proxy's own cap on one request (`--max-request`), below Redis's.
    case requestTooLarge(Int)

    /// The error reply the client gets, as redis-server words it.
    public var reply: [UInt8] {
        let text: String
        switch self {
        case .requestTooLarge(let limit):
            text = "ERR Protocol error: request larger than the proxy's limit of \(limit) bytes"
        case .expectedDollar(let c):
            return Array("-ERR Protocol error: expected '$', got '".utf8) + [c] + Array("'\r\n".utf8)
        default:
            text = "ERR Protocol error: " + reason
        }
        return Array("-\(text)\r\n".utf8)
    }

    /// The reason without any byte of the client's: for records, logs and metrics.
    public var reason: String {
        switch self {
        case .tooBigInlineRequest: return "too big inline request"
        case .unbalancedQuotes: return "unbalanced quotes in request"
        case .tooBigMultibulkCount: return "too big mbulk count string"
        case .invalidMultibulkLength: return "invalid multibulk length"
        case .unauthenticatedMultibulkLength: return "unauthenticated multibulk length"
        case .tooBigBulkCount: return "too big bulk count string"
        case .expectedDollar: return "expected '$'"
        case .invalidBulkLength: return "invalid bulk length"
        case .unauthenticatedBulkLength: return "unauthenticated bulk length"
        case .requestTooLarge(let limit): return "request larger than \(limit) bytes"
        }
    }
}
