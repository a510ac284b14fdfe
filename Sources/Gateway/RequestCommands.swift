import JSON

/// A request the gateway cannot read; answered with a 4xx and never sent to Redis.
struct BadRequest: Error {
    let status: Int
    let message: String
    init(_ message: String, status: Int = 400) {
        self.message = message
        self.status = status
    }
}

/// Turns the body and path of a REST request into Redis argv lists.
enum RequestCommands {
    /// One command from a JSON body: `["SET","k","v","EX",100]`.
    static func single(json body: [UInt8]) throws(BadRequest) -> [[UInt8]] {
        try command(from: parse(body))
    }

    /// Several commands from a JSON body: `[["SET","a","1"],["INCR","a"]]`.
    static func batch(json body: [UInt8]) throws(BadRequest) -> [[[UInt8]]] {
        guard case .array(let elements) = try parse(body) else {
            throw BadRequest("ERR failed to parse pipeline request: expected a JSON array of commands")
        }
        guard !elements.isEmpty else { throw BadRequest("ERR empty pipeline") }
        var out: [[[UInt8]]] = []
        out.reserveCapacity(elements.count)
        for e in elements { out.append(try command(from: e)) }
        return out
    }

    /// One command from the path form: `/set/k/v?EX=100`, segments percent-decoded,
    /// then a POST body (raw, unchanged) as the last argument.
    static func pathForm(path: String, query: String?, body: [UInt8]?) throws(BadRequest) -> [[UInt8]] {
        try pathForm(path: Array(path.utf8)[...], query: query.map { Array($0.utf8)[...] }, body: body)
    }

    /// The same, from the request target's bytes.
    static func pathForm(path: ArraySlice<UInt8>, query: ArraySlice<UInt8>?, body: [UInt8]?) throws(BadRequest) -> [[UInt8]] {
        var segments = path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).dropFirst()
        if segments.last?.isEmpty == true && segments.count > 1 && body != nil && !(body!.isEmpty) {
            segments = segments.dropLast()
        }
        var args: [[UInt8]] = []
        for s in segments {
            guard let d = percentDecode(Array(s)) else { throw BadRequest("ERR malformed percent-encoding in path") }
            args.append(d)
        }
        if let query {
            for pair in query.split(separator: UInt8(ascii: "&")) {
                let kv = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
                guard let k = percentDecode(Array(kv[0])) else { throw BadRequest("ERR malformed percent-encoding in query") }
                if k == Array("_token".utf8) { continue }
                args.append(k)
                if kv.count == 2 {
                    guard let v = percentDecode(Array(kv[1])) else { throw BadRequest("ERR malformed percent-encoding in query") }
                    args.append(v)
                }
            }
        }
        if let body, !body.isEmpty { args.append(body) }
        guard let first = args.first, !first.isEmpty else { throw BadRequest("ERR empty command", status: 400) }
        return args
    }

    private static func parse(_ body: [UInt8]) throws(BadRequest) -> JSONValue {
        guard !body.isEmpty else { throw BadRequest("ERR empty request body: send a JSON array such as [\"PING\"]") }
        do {
            return try JSONParser.parse(body, maxDepth: 3)
        } catch {
            throw BadRequest("ERR failed to parse command: \(error.description)")
        }
    }

    private static func command(from value: JSONValue) throws(BadRequest) -> [[UInt8]] {
        guard case .array(let elements) = value else {
            throw BadRequest("ERR failed to parse command: expected a JSON array such as [\"SET\",\"k\",\"v\"]")
        }
        guard !elements.isEmpty else { throw BadRequest("ERR empty command") }
        var args: [[UInt8]] = []
        args.reserveCapacity(elements.count)
        for e in elements {
            switch e {
            case .string(let s): args.append(s)
            case .number(let n): args.append(n)
            case .bool(let b): args.append(Array((b ? "true" : "false").utf8))
            case .null: throw BadRequest("ERR failed to parse command: null is not a command argument")
            case .array, .object:
                throw BadRequest("ERR failed to parse command: arguments must be strings, numbers or booleans")
            }
        }
        return args
    }

    static func percentDecode(_ s: [UInt8]) -> [UInt8]? {
        guard s.contains(UInt8(ascii: "%")) else { return s }
        var out: [UInt8] = []
        out.reserveCapacity(s.count)
        var i = 0
        while i < s.count {
            if s[i] == UInt8(ascii: "%") {
                guard i + 2 < s.count, let h = hexValue(s[i + 1]), let l = hexValue(s[i + 2]) else { return nil }
                out.append(h << 4 | l)
                i += 3
            } else {
                out.append(s[i])
                i += 1
            }
        }
        return out
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }
}
