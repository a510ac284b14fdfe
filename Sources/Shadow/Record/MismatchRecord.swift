import Foundation
import JSON
import RESP

/// One divergence between the two sides, as a JSON line of the mismatch log.
public struct MismatchRecord: Sendable {
    public var time: Date
    public var connection: UInt64
    public var command: String
    public var keys: [[UInt8]]
    public var primary: String
    public var mirror: String
    public var mismatchClass: MismatchClass
    /// From the primary's reply to the mirror's, in milliseconds.
    public var lagMs: Int64

    /// The record as one line of JSON (with its newline). Keys are in the `migrate --keys-from` format.
    public func jsonLine() -> String {
        String(decoding: jsonBytes(), as: UTF8.self)
    }

    /// The same line's bytes, written straight out: a `JSONValue` tree per record was most of the
    /// cost of a record (perf, INCR at -P 16, where every command raced).
    func jsonBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(160 + primary.utf8.count + mirror.utf8.count + keys.reduce(0) { $0 + $1.count + 4 })
        func field(_ name: StaticString, first: Bool = false) {
            out.append(first ? UInt8(ascii: "{") : UInt8(ascii: ","))
            out.append(UInt8(ascii: "\""))
            name.withUTF8Buffer { out.append(contentsOf: $0) }
            out.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        }
        field("time", first: true)
        JSONWriter.writeString(Self.timestamp(time), into: &out)
        field("connection")
        out.append(contentsOf: String(connection).utf8)
        field("command")
        JSONWriter.writeString(Array(command.utf8), into: &out)
        field("keys")
        out.append(UInt8(ascii: "["))
        for (i, key) in keys.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            JSONWriter.writeString(Array(displayKey(key).utf8), into: &out)
        }
        out.append(UInt8(ascii: "]"))
        field("class")
        JSONWriter.writeString(Array(mismatchClass.rawValue.utf8), into: &out)
        field("primary")
        JSONWriter.writeString(Array(primary.utf8), into: &out)
        field("shadow")
        JSONWriter.writeString(Array(mirror.utf8), into: &out)
        field("lag_ms")
        out.append(contentsOf: String(lagMs).utf8)
        out.append(contentsOf: [UInt8(ascii: "}"), UInt8(ascii: "\n")])
        return out
    }

    /// `2026-12-01T22:11:42.778Z`, written digit by digit: `String(format:)` here was a fifth of the
    /// proxy's CPU while a counter every client increments raced on each command (perf, INCR at -P 16).
    static func timestamp(_ date: Date) -> [UInt8] {
        let ms = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var t = time_t(ms / 1000)
        var tm = tm()
        gmtime_r(&t, &tm)
        var out: [UInt8] = []
        out.reserveCapacity(24)
        func put(_ value: Int, digits: Int, then separator: UInt8?) {
            var scale = 1
            for _ in 1..<digits { scale *= 10 }
            while scale > 0 {
                out.append(UInt8(ascii: "0") + UInt8(value / scale % 10))
                scale /= 10
            }
            if let separator { out.append(separator) }
        }
        put(Int(tm.tm_year) + 1900, digits: 4, then: UInt8(ascii: "-"))
        put(Int(tm.tm_mon) + 1, digits: 2, then: UInt8(ascii: "-"))
        put(Int(tm.tm_mday), digits: 2, then: UInt8(ascii: "T"))
        put(Int(tm.tm_hour), digits: 2, then: UInt8(ascii: ":"))
        put(Int(tm.tm_min), digits: 2, then: UInt8(ascii: ":"))
        put(Int(tm.tm_sec), digits: 2, then: UInt8(ascii: "."))
        put(Int(ms % 1000), digits: 3, then: UInt8(ascii: "Z"))
        return out
    }
}
