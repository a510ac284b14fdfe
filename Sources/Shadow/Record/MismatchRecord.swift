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
        let members: [(String, JSONValue)] = [
            ("time", .text(Self.timestamp(time))), ("connection", .number(Array(String(connection).utf8))), ("command", .text(command)),
            ("keys", .array(keys.map { .text(displayKey($0)) })), ("class", .text(mismatchClass.rawValue)), ("primary", .text(primary)),
            ("shadow", .text(mirror)), ("lag_ms", .int(lagMs)),
        ]
        var line = JSONWriter.encode(.object(members.map { JSONMember(key: Array($0.0.utf8), value: $0.1) }))
        line.append(UInt8(ascii: "\n"))
        return String(decoding: line, as: UTF8.self)
    }

    static func timestamp(_ date: Date) -> String {
        let ms = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var t = time_t(ms / 1000)
        var tm = tm()
        gmtime_r(&t, &tm)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(tm.tm_year) + 1900, Int(tm.tm_mon) + 1, Int(tm.tm_mday), Int(tm.tm_hour),
            Int(tm.tm_min), Int(tm.tm_sec), Int(ms % 1000))
    }
}
