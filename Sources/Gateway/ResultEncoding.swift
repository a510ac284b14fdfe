import JSON
import RESP

/// How a result goes back to the client: JSON text, JSON with base64 strings, or raw RESP2.
enum ResultEncoding: Sendable {
    case json
    case base64
    case resp2

    /// Reads the `Upstash-Encoding` and `Upstash-Response-Format` headers.
    static func from(encoding: String?, format: String?) throws(BadRequest) -> ResultEncoding {
        let base64 = encoding?.lowercased() == "base64"
        switch format?.lowercased() {
        case nil, "json": return base64 ? .base64 : .json
        case "resp2":
            if base64 { throw BadRequest("ERR Upstash-Response-Format resp2 cannot be combined with base64 encoding") }
            return .resp2
        default: throw BadRequest("ERR invalid Upstash-Response-Format: expected json or resp2")
        }
    }

    /// `{"result": …}` or `{"error": …}` for one reply.
    func envelope(_ value: RESPValue) -> JSONValue {
        if case .error(let text) = value { return Self.error(text) }
        return .object([JSONMember(key: Array("result".utf8), value: result(value))])
    }

    static func error(_ text: [UInt8]) -> JSONValue {
        .object([JSONMember(key: Array("error".utf8), value: .string(text))])
    }

    static func error(_ text: String) -> JSONValue { error(Array(text.utf8)) }

    /// A reply as a JSON result: RESP2 shapes only (null, integer, string, nested arrays).
    func result(_ value: RESPValue) -> JSONValue {
        switch value {
        case .integer(let i): return .int(i)
        case .bulkString(nil), .array(nil): return .null
        case .simpleString(let s):
            // Both SDKs leave a plain OK status undecoded; every other string is base64 when asked.
            if self == .base64 && s != Self.ok { return .string(Base64.encode(s)) }
            return .string(s)
        case .bulkString(let s?):
            return .string(self == .base64 ? Base64.encode(s) : s)
        case .error(let s):
            // an error inside an array (EXEC, scripts) stays readable text
            return .string(s)
        case .array(let a?):
            return .array(a.map(result))
        }
    }

    private static let ok: [UInt8] = Array("OK".utf8)
}
