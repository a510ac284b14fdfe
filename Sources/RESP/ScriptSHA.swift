import Crypto

/// The name Redis gives a Lua script, as `SCRIPT LOAD` returns it and `EVALSHA` takes it: its
/// SHA-1 in lower-case hex. A name, not a security measure.
public enum ScriptSHA {
    private static let digits = Array("0123456789abcdef".utf8)

    /// The lower-case hex SHA-1 of a script's text.
    public static func hex(_ text: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(2 * Insecure.SHA1.byteCount)
        for byte in Insecure.SHA1.hash(data: text) {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return out
    }
}
