/// A JSON value as the Upstash REST protocol uses it; strings are UTF-8 bytes and numbers keep
/// their original text, so nothing is lost between the wire and a Redis argument.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    /// The number exactly as written (`100`, `1.5`, `-2e3`).
    case number([UInt8])
    /// The string's UTF-8 bytes, escapes resolved.
    case string([UInt8])
    case array([JSONValue])
    case object([JSONMember])

    /// A JSON string from text.
    public static func text(_ s: String) -> JSONValue { .string(Array(s.utf8)) }

    /// A JSON number from an integer.
    public static func int(_ i: Int64) -> JSONValue { .number(Array(String(i).utf8)) }

    /// The member named `key` of an object.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        let k = Array(key.utf8)
        return members.first { $0.key == k }?.value
    }
}

/// One `"key": value` of a JSON object, in the order written.
public struct JSONMember: Sendable, Hashable {
    public var key: [UInt8]
    public var value: JSONValue
    public init(key: [UInt8], value: JSONValue) {
        self.key = key
        self.value = value
    }
}

/// Why a JSON text was refused.
public struct JSONError: Error, Sendable, Hashable, CustomStringConvertible {
    public let description: String
    public let offset: Int
    init(_ description: String, at offset: Int) {
        self.description = "\(description) at byte \(offset)"
        self.offset = offset
    }
}
