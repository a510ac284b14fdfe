import Foundation

/// Keys as the `upshift migrate --keys-from FILE` format writes them: the text itself when it is
/// printable UTF-8, otherwise `b64:` followed by the key's bytes in base64.
public enum KeyFormat {
    /// One key as one line of a keys file (no newline).
    public static func display(_ key: [UInt8]) -> String {
        if let s = String(validating: key, as: UTF8.self),
            !s.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }), !s.hasPrefix("b64:")
        {
            return s
        }
        return "b64:" + Data(key).base64EncodedString()
    }

    /// Reads a line written by `display` back to the key's bytes.
    public static func parse(_ line: Substring) -> [UInt8]? {
        if line.hasPrefix("b64:") { return Data(base64Encoded: String(line.dropFirst(4))).map { Array($0) } }
        return Array(line.utf8)
    }
}
