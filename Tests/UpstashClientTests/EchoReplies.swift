import JSON
import RESP

@testable import UpstashClient

/// Reads the commands out of a REST request the way an Upstash server does, and answers each with
/// its last argument, base64-encoded: enough protocol for a test server to prove what arrived
/// and in which order.
enum EchoReplies {
    /// The argv lists a request carries: a JSON body (`/`, `/pipeline`, `/multi-exec`) or the path
    /// form. A command escaped into the client's `EVAL` wrapper is read as the command it runs.
    static func commands(_ request: RecordedRequest) -> [[[UInt8]]] {
        let path = request.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? request.uri
        if path == "/" || path == "/pipeline" || path == "/multi-exec" {
            guard let json = try? JSONParser.parse(request.body) else { return [] }
            if path == "/" { return [unwrapped(strings(json))] }
            guard case .array(let list) = json else { return [] }
            return list.map { unwrapped(strings($0)) }
        }
        var args = path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).dropFirst().map {
            percentDecode(Array($0))
        }
        if !request.body.isEmpty { args.append(request.body) }
        return [args]
    }

    /// `{"result": base64(last argument)}` per command; an array of them for a batch route.
    static func respond(_ request: RecordedRequest) -> CannedResponse {
        let commands = commands(request)
        func envelope(_ args: [[UInt8]]) -> JSONValue {
            .object([JSONMember(key: Array("result".utf8), value: .string(Base64.encode(args.last ?? [])))])
        }
        let isBatch = request.uri.hasPrefix("/pipeline") || request.uri.hasPrefix("/multi-exec")
        let value = isBatch ? JSONValue.array(commands.map(envelope)) : envelope(commands.first ?? [])
        return CannedResponse(status: 200, body: JSONWriter.encode(value))
    }

    /// What the `EscapedCommand` script would run: its ARGV with the escaped arguments restored.
    static func unwrapped(_ args: [[UInt8]]) -> [[UInt8]] {
        guard args.count >= 4, args[0] == Array("EVAL".utf8), args[1] == Array(EscapedCommand.script.utf8) else { return args }
        let flags = args[3]
        return args.dropFirst(4).enumerated().map { i, a in
            i < flags.count && flags[i] == UInt8(ascii: "1") ? (ScriptEscape.unescape(a) ?? a) : a
        }
    }

    private static func strings(_ json: JSONValue) -> [[UInt8]] {
        guard case .array(let items) = json else { return [] }
        return items.map { item in
            switch item {
            case .string(let s), .number(let s): return s
            default: return []
            }
        }
    }

    static func percentDecode(_ s: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < s.count {
            if s[i] == UInt8(ascii: "%"), i + 2 < s.count, let v = UInt8(String(decoding: s[i + 1...i + 2], as: UTF8.self), radix: 16) {
                out.append(v)
                i += 3
            } else {
                out.append(s[i])
                i += 1
            }
        }
        return out
    }
}
