import JSON
import RESP

/// How commands become REST request bodies and paths.
///
/// A JSON string can only carry valid UTF-8, so a command with any other bytes in an argument
/// travels in the path form instead: `POST /<arg1>/<arg2>/…` with every argument but the last
/// percent-encoded as a path segment (percent-encoding carries any byte) and the last argument as
/// the raw request body, which the server takes unchanged.
enum RequestEncoding {
    /// The command as a JSON array of strings (`["SET","k","v"]`); nil when an argument is not UTF-8.
    static func json(_ command: RESPCommand) -> [UInt8]? {
        var size = 2
        for a in command.arguments { size += a.count + 3 }
        var out: [UInt8] = []
        out.reserveCapacity(size)
        out.append(UInt8(ascii: "["))
        for (i, a) in command.arguments.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            guard JSONWriter.writeString(a, into: &out, stopAtInvalid: true) else { return nil }
        }
        out.append(UInt8(ascii: "]"))
        return out
    }

    /// A `/pipeline` or `/multi-exec` body from already encoded commands.
    static func batch(_ encoded: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(batchSize(encoded.reduce(0) { $0 + $1.count }, count: encoded.count))
        out.append(UInt8(ascii: "["))
        for (i, e) in encoded.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: e)
        }
        out.append(UInt8(ascii: "]"))
        return out
    }

    /// The size of a batch body holding `count` commands of `bytes` encoded bytes in all.
    static func batchSize(_ bytes: Int, count: Int) -> Int {
        bytes + max(0, count - 1) + 2
    }

    /// The path form of a command: the route (`/SET/k`) and the body (the last argument).
    ///
    /// The last argument goes in the body unless it is empty (a server cannot tell an empty body
    /// from none) or it is the only argument; then it is a path segment too, and the body is empty.
    static func pathForm(_ command: RESPCommand) -> (route: String, body: [UInt8]) {
        let args = command.arguments
        guard let last = args.last else { return ("/", []) }
        let inBody = args.count > 1 && !last.isEmpty
        let segments = inBody ? args.dropLast() : args[...]
        var route = ""
        for s in segments {
            route += "/"
            route += percentEncode(s)
        }
        return (route, inBody ? last : [])
    }

    private static let hex: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// Percent-encodes every byte but `A–Z a–z 0–9 - _ ~`, so no segment can contain `/`, `?`,
    /// `%` or be the dot segments `.`/`..` that URL normalisers would collapse.
    static func percentEncode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 3)
        for b in bytes {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(b)
            default:
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
