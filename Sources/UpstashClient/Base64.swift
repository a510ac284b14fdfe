/// Standard base64 (RFC 4648, with padding), as `Upstash-Encoding: base64` uses it.
public enum Base64 {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let reverse: [UInt8] = {
        var r = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { r[Int(c)] = UInt8(i) }
        return r
    }()

    public static func encode(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i + 3 <= bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(alphabet[Int(n >> 6 & 63)])
            out.append(alphabet[Int(n & 63)])
            i += 3
        }
        let rest = bytes.count - i
        if rest > 0 {
            let n = UInt32(bytes[i]) << 16 | (rest == 2 ? UInt32(bytes[i + 1]) << 8 : 0)
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(rest == 2 ? alphabet[Int(n >> 6 & 63)] : UInt8(ascii: "="))
            out.append(UInt8(ascii: "="))
        }
        return out
    }

    /// Decodes; nil when the text is not base64.
    public static func decode(_ text: [UInt8]) -> [UInt8]? {
        guard text.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(text.count / 4 * 3)
        var i = 0
        while i < text.count {
            let a = reverse[Int(text[i])]
            let b = reverse[Int(text[i + 1])]
            let c3 = text[i + 2]
            let d4 = text[i + 3]
            guard a != 0xFF, b != 0xFF else { return nil }
            let last = i + 4 == text.count
            let c = c3 == UInt8(ascii: "=") && last ? 0 : reverse[Int(c3)]
            let d = d4 == UInt8(ascii: "=") && last ? 0 : reverse[Int(d4)]
            guard c != 0xFF, d != 0xFF else { return nil }
            if c3 == UInt8(ascii: "=") && d4 != UInt8(ascii: "=") { return nil }
            let n = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
            out.append(UInt8(n >> 16 & 0xFF))
            if !(last && c3 == UInt8(ascii: "=")) { out.append(UInt8(n >> 8 & 0xFF)) }
            if !(last && d4 == UInt8(ascii: "=")) { out.append(UInt8(n & 0xFF)) }
            i += 4
        }
        return out
    }
}
