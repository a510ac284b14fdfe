import RESP

/// Writes JSON. Strings must be text: bytes that are not valid UTF-8 become U+FFFD,
/// which is why binary values travel base64-encoded or in a raw request body.
public enum JSONWriter {
    /// The JSON text of a value.
    public static func encode(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        write(value, into: &out)
        return out
    }

    /// Appends the JSON text of a value.
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

    /// Appends `bytes` as a JSON string.
    public static func writeString(_ bytes: [UInt8], into out: inout [UInt8]) {
        _ = writeString(bytes, into: &out, stopAtInvalid: false)
    }

    /// Writes `bytes` as a JSON string; with `stopAtInvalid`, returns false at the first byte that
    /// is not UTF-8 (what was written is then incomplete), so checking and writing take one pass.
    package static func writeString(_ bytes: [UInt8], into out: inout [UInt8], stopAtInvalid: Bool) -> Bool {
        out.append(UInt8(ascii: "\""))
        let valid = bytes.withUnsafeBufferPointer { s -> Bool in
            var i = 0
            var run = 0  // start of bytes copied as they are, appended in one go
            while i < s.count {
                let c = s[i]
                if c >= 0x20 && c < 0x80 && c != 0x22 && c != 0x5C {
                    i += 1
                    continue
                }
                if c >= 0x80 {
                    let n = utf8SequenceLength(s, at: i)
                    if n > 0 {
                        i += n
                        continue
                    }
                }
                if c >= 0x80 && stopAtInvalid { return false }
                if run < i { out.append(contentsOf: UnsafeBufferPointer(rebasing: s[run..<i])) }
                switch c {
                case 0x22: out.append(contentsOf: [0x5C, 0x22])
                case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
                case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
                case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
                case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
                default:
                    if c < 0x20 {
                        out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(c >> 4)], hex[Int(c & 0xF)]])
                    } else {
                        out.append(contentsOf: [0xEF, 0xBF, 0xBD])  // U+FFFD for a byte that is not UTF-8
                    }
                }
                i += 1
                run = i
            }
            if run < s.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: s[run..<s.count])) }
            return true
        }
        guard valid else { return false }
        out.append(UInt8(ascii: "\""))
        return true
    }
}
