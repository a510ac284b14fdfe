/// Writes RESP2 values and commands as bytes.
public enum RESPSerializer {
    /// Appends the wire form of a value.
    public static func write(_ value: RESPValue, into out: inout [UInt8]) {
        switch value {
        case .simpleString(let b):
            out.append(UInt8(ascii: "+"))
            out.append(contentsOf: b)
            crlf(&out)
        case .error(let b):
            out.append(UInt8(ascii: "-"))
            out.append(contentsOf: b)
            crlf(&out)
        case .integer(let i):
            out.append(UInt8(ascii: ":"))
            out.append(contentsOf: String(i).utf8)
            crlf(&out)
        case .bulkString(nil):
            out.append(contentsOf: nullBulk)
        case .bulkString(let b?):
            writeBulk(b, into: &out)
        case .array(nil):
            out.append(contentsOf: nullArray)
        case .array(let elements?):
            header(UInt8(ascii: "*"), elements.count, &out)
            for e in elements { write(e, into: &out) }
        }
    }

    /// Appends a command as an array of bulk strings.
    public static func write(_ command: RESPCommand, into out: inout [UInt8]) {
        header(UInt8(ascii: "*"), command.arguments.count, &out)
        for a in command.arguments { writeBulk(a, into: &out) }
    }

    /// The wire form of a value.
    public static func encode(_ value: RESPValue) -> [UInt8] {
        var out: [UInt8] = []
        write(value, into: &out)
        return out
    }

    /// The wire form of a command.
    public static func encode(_ command: RESPCommand) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(command.encodedSize)
        write(command, into: &out)
        return out
    }

    private static let nullBulk: [UInt8] = Array("$-1\r\n".utf8)
    private static let nullArray: [UInt8] = Array("*-1\r\n".utf8)

    @inline(__always)
    private static func writeBulk(_ b: [UInt8], into out: inout [UInt8]) {
        header(UInt8(ascii: "$"), b.count, &out)
        out.append(contentsOf: b)
        crlf(&out)
    }

    @inline(__always)
    private static func header(_ type: UInt8, _ count: Int, _ out: inout [UInt8]) {
        out.append(type)
        out.append(contentsOf: String(count).utf8)
        crlf(&out)
    }

    @inline(__always)
    private static func crlf(_ out: inout [UInt8]) {
        out.append(13)
        out.append(10)
    }
}
