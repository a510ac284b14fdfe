internal import ExtrasBase64

/// Standard base64 (RFC 4648, with padding): Upstash's `Upstash-Encoding: base64`, the gateway's
/// tokens, `b64:` keys. The one codec of the project, over swift-extras-base64 (measured faster than
/// the hand-written codec it replaced and than Foundation's for values of 200 bytes and more).
public enum Base64 {
    private static let pad = UInt8(ascii: "=")

    /// The base64 text of `bytes`.
    public static func encode(_ bytes: [UInt8]) -> [UInt8] {
        ExtrasBase64.Base64.encodeToBytes(bytes: bytes)
    }

    /// The base64 text of `bytes`, as a string.
    public static func encodeToString(_ bytes: [UInt8]) -> String {
        ExtrasBase64.Base64.encodeToString(bytes: bytes)
    }

    /// Decodes; nil when the text is not base64.
    public static func decode(_ text: [UInt8]) -> [UInt8]? {
        // Padding is `=` or `==` at the very end; the library also takes `xy=z`, which is not base64
        // (an Upstash error text must never pass for a value).
        if text.count >= 2, text[text.count - 2] == pad, text[text.count - 1] != pad { return nil }
        return try? ExtrasBase64.Base64.decode(bytes: text)
    }
}
