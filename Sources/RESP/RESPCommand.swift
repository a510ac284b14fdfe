/// Something that can stand as one argument of a Redis command.
public protocol RESPArgumentConvertible: Sendable {
    /// The argument's bytes as they go on the wire.
    var respArgument: [UInt8] { get }
}

extension String: RESPArgumentConvertible {
    public var respArgument: [UInt8] { Array(utf8) }
}
extension Substring: RESPArgumentConvertible {
    public var respArgument: [UInt8] { Array(utf8) }
}
extension Array: RESPArgumentConvertible where Element == UInt8 {
    public var respArgument: [UInt8] { self }
}
extension ArraySlice: RESPArgumentConvertible where Element == UInt8 {
    public var respArgument: [UInt8] { Array(self) }
}
extension Int: RESPArgumentConvertible {
    public var respArgument: [UInt8] { Array(String(self).utf8) }
}
extension Int64: RESPArgumentConvertible {
    public var respArgument: [UInt8] { Array(String(self).utf8) }
}
extension UInt64: RESPArgumentConvertible {
    public var respArgument: [UInt8] { Array(String(self).utf8) }
}

/// One Redis command: its argv, each argument raw bytes.
public struct RESPCommand: Sendable, Hashable {
    /// The arguments, the command name first.
    public var arguments: [[UInt8]]

    /// For a script call (EVAL, EVALSHA, FCALL): how many commands the script will run, when the
    /// caller knows. Upstash bills each of them besides the call itself, so a client that paces to
    /// a commands/s budget counts them; 0 when unknown or not a script.
    public var scriptCalls = 0

    /// A command from raw argv.
    public init(arguments: [[UInt8]]) {
        self.arguments = arguments
    }

    /// A command from any mix of text, bytes and numbers: `RESPCommand("SET", key, value)`.
    public init(_ name: String, _ rest: any RESPArgumentConvertible...) {
        self.arguments = [Array(name.utf8)] + rest.map(\.respArgument)
    }

    /// A command from a name and a list of arguments.
    public init(_ name: String, arguments rest: [any RESPArgumentConvertible]) {
        self.arguments = [Array(name.utf8)] + rest.map(\.respArgument)
    }

    /// The command name in upper case (`GET`), for lookups and logs.
    public var name: String {
        guard let first = arguments.first else { return "" }
        return String(decoding: first, as: UTF8.self).uppercased()
    }

    /// The command as a RESP array of bulk strings, the way clients send it.
    public var asValue: RESPValue { .array(arguments.map { .bulkString($0) }) }

    /// The serialized size in bytes, for request-size budgets.
    public var encodedSize: Int {
        var size = 1 + decimalLength(arguments.count) + 2
        for a in arguments { size += 1 + decimalLength(a.count) + 2 + a.count + 2 }
        return size
    }
}

@inline(__always)
func decimalLength(_ n: Int) -> Int {
    var n = n
    var digits = 1
    if n < 0 {
        digits += 1
        n = -n
    }
    while n >= 10 {
        n /= 10
        digits += 1
    }
    return digits
}
