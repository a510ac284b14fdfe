/// The head of one HTTP/1.1 request as the fast path reads it off the wire: just what it needs to
/// decide whether it may serve the request, and where the request ends.
///
/// Anything unusual (HTTP/1.0, chunked bodies, folded or malformed headers, a bare LF) is not
/// parsed here but left to NIO's parser behind the fast path, which gives the standard answer.
struct RequestHead: Equatable {
    enum Method: Equatable {
        case get, post, other
    }

    /// What reading the start of a buffer found.
    enum Parse: Equatable {
        /// The head has not fully arrived.
        case incomplete
        /// Not a head this reader frames with certainty: NIO's parser must take the connection from here.
        case unframed
        case head(RequestHead)
    }

    var method: Method
    /// The request target (`/get/k?_token=…`), bytes 0x21–0x7E only; nil when it has other bytes
    /// or does not start with `/`, which leaves the request to the full path.
    var target: [UInt8]?
    /// Bytes of the request line and headers, the blank line included.
    var headLength: Int
    var contentLength: Int
    /// The `Authorization` value, trimmed; nil when absent or repeated.
    var authorization: [UInt8]?
    /// The `Upstash-Encoding` value, trimmed.
    var encoding: [UInt8]?
    /// A header the fast path leaves to the full path: `Upstash-Response-Format`, `Expect`, `Upgrade`,
    /// a `Connection` other than `keep-alive` or `close`, or a repeated `Authorization`/`Upstash-Encoding`.
    var needsFullPath: Bool
    /// `Connection: close`.
    var close: Bool

    /// Bytes of the whole request, body included.
    var length: Int { headLength + contentLength }

    /// NIO's own limit on a head (Hummingbird's `maxHeaderListSize`): past it, NIO answers.
    static let maxHeadBytes = 80 * 1024

    /// Reads the head at the start of `bytes`.
    static func parse(_ bytes: UnsafeRawBufferPointer) -> Parse {
        let n = bytes.count
        // The end of the head, CR LF CR LF; a LF without its CR anywhere before it is NIO's to judge.
        var end = -1
        var i = 0
        while i < n {
            let c = bytes[i]
            if c == lf {
                guard i > 0, bytes[i - 1] == cr else { return .unframed }
                if i >= 3, bytes[i - 2] == lf {
                    end = i + 1
                    break
                }
            }
            i += 1
        }
        if end < 0 { return n > maxHeadBytes ? .unframed : .incomplete }
        if end > maxHeadBytes { return .unframed }

        // Request line: METHOD SP target SP HTTP/1.1 CR LF.
        guard let sp1 = index(of: space, in: bytes, from: 0, to: end), sp1 > 0,
            let sp2 = index(of: space, in: bytes, from: sp1 + 1, to: end), sp2 > sp1 + 1,
            let lineEnd = index(of: cr, in: bytes, from: sp2 + 1, to: end), bytes[lineEnd + 1] == lf,
            equal(bytes, sp2 + 1, lineEnd, http11)
        else { return .unframed }
        var head = RequestHead(
            method: equal(bytes, 0, sp1, get) ? .get : equal(bytes, 0, sp1, post) ? .post : .other, target: nil,
            headLength: end, contentLength: 0, authorization: nil, encoding: nil, needsFullPath: false, close: false)
        for k in 0..<sp1 where !isToken(bytes[k]) { return .unframed }
        var printable = bytes[sp1 + 1] == slash
        for k in (sp1 + 1)..<sp2 where bytes[k] < 0x21 || bytes[k] > 0x7E { printable = false }
        if printable { head.target = Array(bytes[(sp1 + 1)..<sp2]) }

        var seenLength = false
        var seenAuthorization = false
        var seenEncoding = false
        var line = lineEnd + 2
        while line < end - 2 {
            guard let eol = index(of: cr, in: bytes, from: line, to: end), bytes[eol + 1] == lf,
                let sep = index(of: colon, in: bytes, from: line, to: eol), sep > line
            else { return .unframed }
            for k in line..<sep where !isToken(bytes[k]) { return .unframed }
            var from = sep + 1
            var to = eol
            while from < to, bytes[from] == space || bytes[from] == tab { from += 1 }
            while to > from, bytes[to - 1] == space || bytes[to - 1] == tab { to -= 1 }
            for k in from..<to where bytes[k] < 0x20 && bytes[k] != tab || bytes[k] == 0x7F { return .unframed }
            switch field(bytes, line, sep) {
            case .contentLength:
                guard !seenLength, to > from, to - from <= 18 else { return .unframed }
                var value = 0
                for k in from..<to {
                    guard bytes[k] >= 0x30 && bytes[k] <= 0x39 else { return .unframed }
                    value = value * 10 + Int(bytes[k] - 0x30)
                }
                head.contentLength = value
                seenLength = true
            case .transferEncoding:
                return .unframed
            case .authorization:
                if seenAuthorization { head.needsFullPath = true }
                seenAuthorization = true
                head.authorization = Array(bytes[from..<to])
            case .upstashEncoding:
                if seenEncoding { head.needsFullPath = true }
                seenEncoding = true
                head.encoding = Array(bytes[from..<to])
            case .connection:
                if equalIgnoringCase(bytes, from, to, close) {
                    head.close = true
                } else if !equalIgnoringCase(bytes, from, to, keepAlive) {
                    head.needsFullPath = true
                }
            case .fullPathOnly:
                head.needsFullPath = true
            case .other:
                break
            }
            line = eol + 2
        }
        return .head(head)
    }

    private enum Field {
        case contentLength, transferEncoding, authorization, upstashEncoding, connection, fullPathOnly, other
    }

    private static func field(_ bytes: UnsafeRawBufferPointer, _ at: Int, _ to: Int) -> Field {
        switch to - at {
        case 14 where equalIgnoringCase(bytes, at, to, contentLengthName): return .contentLength
        case 17 where equalIgnoringCase(bytes, at, to, transferEncodingName): return .transferEncoding
        case 13 where equalIgnoringCase(bytes, at, to, authorizationName): return .authorization
        case 16 where equalIgnoringCase(bytes, at, to, encodingName): return .upstashEncoding
        case 10 where equalIgnoringCase(bytes, at, to, connectionName): return .connection
        case 23 where equalIgnoringCase(bytes, at, to, formatName): return .fullPathOnly
        case 6 where equalIgnoringCase(bytes, at, to, expectName): return .fullPathOnly
        case 7 where equalIgnoringCase(bytes, at, to, upgradeName): return .fullPathOnly
        default: return .other
        }
    }

    private static let cr = UInt8(ascii: "\r")
    private static let lf = UInt8(ascii: "\n")
    private static let space = UInt8(ascii: " ")
    private static let tab = UInt8(ascii: "\t")
    private static let colon = UInt8(ascii: ":")
    private static let slash = UInt8(ascii: "/")
    private static let http11: [UInt8] = Array("HTTP/1.1".utf8)
    private static let get: [UInt8] = Array("GET".utf8)
    private static let post: [UInt8] = Array("POST".utf8)
    private static let close: [UInt8] = Array("close".utf8)
    private static let keepAlive: [UInt8] = Array("keep-alive".utf8)
    private static let contentLengthName: [UInt8] = Array("content-length".utf8)
    private static let transferEncodingName: [UInt8] = Array("transfer-encoding".utf8)
    private static let authorizationName: [UInt8] = Array("authorization".utf8)
    private static let encodingName: [UInt8] = Array("upstash-encoding".utf8)
    private static let connectionName: [UInt8] = Array("connection".utf8)
    private static let formatName: [UInt8] = Array("upstash-response-format".utf8)
    private static let expectName: [UInt8] = Array("expect".utf8)
    private static let upgradeName: [UInt8] = Array("upgrade".utf8)

    private static func index(of byte: UInt8, in bytes: UnsafeRawBufferPointer, from: Int, to: Int) -> Int? {
        var i = from
        while i < to {
            if bytes[i] == byte { return i }
            i += 1
        }
        return nil
    }

    private static func equal(_ bytes: UnsafeRawBufferPointer, _ from: Int, _ to: Int, _ word: [UInt8]) -> Bool {
        guard to - from == word.count else { return false }
        for k in 0..<word.count where bytes[from + k] != word[k] { return false }
        return true
    }

    /// `word` is lower-case.
    private static func equalIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ from: Int, _ to: Int, _ word: [UInt8]) -> Bool {
        guard to - from == word.count else { return false }
        for k in 0..<word.count where bytes[from + k] | 0x20 != word[k] { return false }
        return true
    }

    /// RFC 9110 tchar.
    private static func isToken(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
            UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}
