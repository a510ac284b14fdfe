import Foundation

/// A key for people and files: its text when UTF-8 without control characters, else `b64:` + base64.
public func displayKey(_ key: [UInt8]) -> String {
    if let s = String(validating: key, as: UTF8.self), !s.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }),
        !s.hasPrefix("b64:")
    {
        return s
    }
    return "b64:" + Base64.encodeToString(key)
}

/// Reads a key written by `displayKey` back to bytes.
public func parseDisplayKey(_ line: Substring) -> [UInt8]? {
    if line.hasPrefix("b64:") { return Base64.decode(Array(line.dropFirst(4).utf8)) }
    return Array(line.utf8)
}
