import JSON
import RESP

/// Turns `Upstash-Encoding: base64` JSON replies back into exact RESP values.
///
/// Every string in a result is base64 of the reply's bytes, at any depth, except a plain `OK`
/// status (sent as the literal `OK`, which is never valid base64) and error texts, which are
/// never encoded. So: `OK` → `.simpleString("OK")`; other strings → `.bulkString(decoded)`;
/// a nested string that is not base64 can only be an error text (an error inside an EXEC or
/// script reply) → `.error(text)`; integers → `.integer`; null → `.bulkString(nil)`.
///
/// The JSON form cannot tell a status reply from a bulk string (`PING` answers `.bulkString("PONG")`);
/// callers that need the exact reply types use the RESP2 response format instead.
enum ResultDecoding {
    /// Why a reply could not be decoded.
    struct Malformed: Error {
        let why: String
    }

    private static let ok: [UInt8] = Array("OK".utf8)

    /// One result value (the `result` member's value).
    static func value(_ json: JSONValue, nested: Bool = false) throws(Malformed) -> RESPValue {
        switch json {
        case .null:
            return .bulkString(nil)
        case .number(let text):
            guard let i = Int64(String(decoding: text, as: UTF8.self)) else {
                throw Malformed(why: "a non-integer number in a result: \(String(decoding: text.prefix(40), as: UTF8.self))")
            }
            return .integer(i)
        case .string(let s):
            if s == ok { return .simpleString(ok) }
            if let bytes = Base64.decode(s) { return .bulkString(bytes) }
            if nested { return .error(s) }
            throw Malformed(why: "a result string that is not base64: \(preview(s))")
        case .array(let elements):
            var out: [RESPValue] = []
            out.reserveCapacity(elements.count)
            for e in elements { out.append(try value(e, nested: true)) }
            return .array(out)
        case .bool:
            throw Malformed(why: "a boolean in a result, which RESP2 has no form for")
        case .object:
            throw Malformed(why: "an object in a result, which RESP2 has no form for")
        }
    }

    /// `{"result": …}` → the value; `{"error": "…"}` → `.error(text)`, verbatim.
    static func envelope(_ json: JSONValue) throws(Malformed) -> RESPValue {
        if let result = json["result"] { return try value(result) }
        if let error = json["error"] {
            guard case .string(let text) = error else { throw Malformed(why: "an error member that is not a string") }
            return .error(text)
        }
        throw Malformed(why: "expected {\"result\": …} or {\"error\": …}")
    }

    /// A `/pipeline` or `/multi-exec` reply: an array of exactly `count` envelopes.
    static func envelopes(_ json: JSONValue, count: Int) throws(Malformed) -> [RESPValue] {
        guard case .array(let elements) = json else {
            throw Malformed(why: "expected an array of \(count) replies")
        }
        guard elements.count == count else {
            throw Malformed(why: "expected \(count) replies, got \(elements.count)")
        }
        var out: [RESPValue] = []
        out.reserveCapacity(count)
        for e in elements { out.append(try envelope(e)) }
        return out
    }

    /// The text of an `{"error": "…"}` body, if the body is one.
    static func errorText(_ body: [UInt8]) -> [UInt8]? {
        guard let json = try? JSONParser.parse(body), case .string(let text)? = json["error"] else { return nil }
        return text
    }

    static func preview(_ bytes: [UInt8]) -> String {
        let head = String(decoding: bytes.prefix(60), as: UTF8.self)
        return bytes.count > 60 ? head + "…" : head
    }
}
