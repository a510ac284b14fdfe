/// Turning keys and sizes into text people read: UTF-8 checks, escaping, byte and count formats.
public enum ByteText {
    /// True when `bytes` is well-formed UTF-8. With `allowTruncatedEnd`, a multi-byte sequence cut
    /// short by the end still passes (the bytes are a prefix of a longer value).
    public static func isValidUTF8(_ bytes: [UInt8], allowTruncatedEnd: Bool = false) -> Bool {
        var i = 0
        while i < bytes.count {
            let n = sequenceLength(bytes, at: i)
            if n > 0 {
                i += n
            } else if n < 0 {
                return allowTruncatedEnd
            } else {
                return false
            }
        }
        return true
    }

    /// The bytes as text, valid UTF-8 kept, everything else (invalid bytes, control characters)
    /// escaped as `\xNN`, and cut to `limit` characters with an ellipsis and the full length.
    public static func escaped(_ bytes: [UInt8], limit: Int = 96) -> String {
        var out = ""
        var shown = 0
        var i = 0
        while i < bytes.count {
            if shown >= limit {
                out += "… (\(bytes.count) bytes)"
                return out
            }
            let n = sequenceLength(bytes, at: i)
            let b = bytes[i]
            if n == 1 {
                switch b {
                case UInt8(ascii: "\\"): out += "\\\\"
                case UInt8(ascii: "\n"): out += "\\n"
                case UInt8(ascii: "\r"): out += "\\r"
                case UInt8(ascii: "\t"): out += "\\t"
                case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(b))
                default: out += hexEscape(b)
                }
                i += 1
            } else if n > 1 {
                out += String(decoding: bytes[i..<(i + n)], as: UTF8.self)
                i += n
            } else {
                out += hexEscape(b)
                i += 1
            }
            shown += 1
        }
        return out
    }

    /// `1.5 MB`, `320 B`: binary units, one decimal.
    public static func size(_ bytes: Int) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(bytes)
        var unit = 0
        while abs(value) >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        if unit == 0 { return "\(bytes) B" }
        return "\(decimal(value, places: 1)) \(units[unit])"
    }

    /// `12,345`: thousands grouped with commas, the same in every renderer.
    public static func count(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var grouped = ""
        for (offset, ch) in digits.enumerated() {
            if offset > 0, (digits.count - offset) % 3 == 0 { grouped += "," }
            grouped.append(ch)
        }
        return n < 0 ? "-" + grouped : grouped
    }

    /// A fixed-point rendering without Foundation's locale: `decimal(3.14159, places: 2)` is `3.14`.
    public static func decimal(_ value: Double, places: Int) -> String {
        guard value.isFinite else { return "∞" }
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let rounded = (abs(value) * scale).rounded()
        let whole = Int(rounded / scale)
        let fraction = Int(rounded - Double(whole) * scale)
        let sign = value < 0 && rounded != 0 ? "-" : ""
        if places == 0 { return sign + count(whole) }
        var fractionText = String(fraction)
        while fractionText.count < places { fractionText = "0" + fractionText }
        return "\(sign)\(count(whole)).\(fractionText)"
    }

    /// `$12.34`, or `$0.0012` for amounts under a cent.
    public static func dollars(_ amount: Double) -> String {
        if amount > 0, amount < 0.01 { return "$" + decimal(amount, places: 4) }
        return "$" + decimal(amount, places: 2)
    }

    /// `2 h 5 min`, `40 s`, `120 ms`: a duration for people.
    public static func duration(seconds: Double) -> String {
        if seconds < 1 { return "\(Int((seconds * 1000).rounded())) ms" }
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s) s" }
        if s < 3600 { return "\(s / 60) min \(s % 60) s" }
        if s < 86_400 { return "\(s / 3600) h \((s % 3600) / 60) min" }
        return "\(s / 86_400) d \((s % 86_400) / 3600) h"
    }

    private static func hexEscape(_ b: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return "\\x" + String(digits[Int(b >> 4)]) + String(digits[Int(b & 0xF)])
    }

    /// The length of the well-formed UTF-8 sequence at `i`: 1…4, 0 when malformed,
    /// -1 when the input ends in the middle of an otherwise valid sequence.
    static func sequenceLength(_ b: [UInt8], at i: Int) -> Int {
        let lead = b[i]
        if lead < 0x80 { return 1 }
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        let trailing: Int
        switch lead {
        case 0xC2...0xDF: trailing = 1
        case 0xE0:
            trailing = 2
            low = 0xA0  // no overlong forms
        case 0xE1...0xEC, 0xEE...0xEF: trailing = 2
        case 0xED:
            trailing = 2
            high = 0x9F  // no surrogates
        case 0xF0:
            trailing = 3
            low = 0x90
        case 0xF1...0xF3: trailing = 3
        case 0xF4:
            trailing = 3
            high = 0x8F  // nothing past U+10FFFF
        default: return 0
        }
        for k in 1...trailing {
            guard i + k < b.count else { return -1 }
            let c = b[i + k]
            let range: ClosedRange<UInt8> = k == 1 ? low...high : 0x80...0xBF
            if !range.contains(c) { return 0 }
        }
        return trailing + 1
    }
}
