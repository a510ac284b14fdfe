/// Writes JSON. Strings must be text: bytes that are not valid UTF-8 become U+FFFD,
/// which is why binary values travel base64-encoded or in a raw request body.
public enum JSONWriter {
    public static func encode(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        write(value, into: &out)
        return out
    }

    public static func write(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let n): out.append(contentsOf: n)
        case .string(let s): writeString(s, into: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (k, e) in a.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                write(e, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (k, m) in members.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                writeString(m.key, into: &out)
                out.append(UInt8(ascii: ":"))
                write(m.value, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    public static func writeString(_ s: [UInt8], into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var i = 0
        while i < s.count {
            let c = s[i]
            if c >= 0x20 && c < 0x80 && c != 0x22 && c != 0x5C {
                out.append(c)
                i += 1
                continue
            }
            if c < 0x80 {
                switch c {
                case 0x22: out.append(contentsOf: [0x5C, 0x22])
                case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
                case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
                case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
                case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
                default: out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(c >> 4)], hex[Int(c & 0xF)]])
                }
                i += 1
                continue
            }
            let n = validUTF8SequenceLength(s, at: i)
            if n > 0 {
                out.append(contentsOf: s[i..<i + n])
                i += n
            } else {
                out.append(contentsOf: [0xEF, 0xBF, 0xBD])  // U+FFFD
                i += 1
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

/// The length of the valid UTF-8 sequence starting at `i`, or 0 when it is not one.
@inline(__always)
func validUTF8SequenceLength(_ s: [UInt8], at i: Int) -> Int {
    let c = s[i]
    let n: Int
    var min: UInt32
    var v: UInt32
    switch c {
    case 0xC2...0xDF: (n, min, v) = (2, 0x80, UInt32(c & 0x1F))
    case 0xE0...0xEF: (n, min, v) = (3, 0x800, UInt32(c & 0x0F))
    case 0xF0...0xF4: (n, min, v) = (4, 0x10000, UInt32(c & 0x07))
    default: return 0
    }
    guard i + n <= s.count else { return 0 }
    for k in 1..<n {
        let b = s[i + k]
        guard b & 0xC0 == 0x80 else { return 0 }
        v = v << 6 | UInt32(b & 0x3F)
    }
    if v < min || v > 0x10FFFF || (0xD800...0xDFFF).contains(v) { return 0 }
    min = 0
    return n
}

/// True when the bytes are valid UTF-8, so they can travel as a JSON string unchanged.
public func isValidUTF8(_ s: [UInt8]) -> Bool {
    var i = 0
    while i < s.count {
        if s[i] < 0x80 {
            i += 1
            continue
        }
        let n = validUTF8SequenceLength(s, at: i)
        if n == 0 { return false }
        i += n
    }
    return true
}
