import Foundation
import JSON
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
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

/// Appends mismatch records to a file as JSON lines; writes happen on NIO's thread pool, never on
/// an event loop, and a burst is bounded in memory (excess lines are counted, not kept).
final class MismatchLog: Sendable {
    private struct State {
        var buffer: [UInt8] = []
        var lost = 0
        var flushing = false
    }
    private let fd: Int32
    private let state = NIOLockedValueBox(State())
    private static let maxBuffered = 8 * 1024 * 1024

    /// Opens (appending, creating) the log file.
    init(path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ShadowError("cannot open mismatch log \(path): \(String(cString: strerror(errno)))") }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Queues one record for writing.
    func append(_ record: MismatchRecord) {
        let line = Array(record.jsonLine().utf8)
        let startFlush = state.withLockedValue { s -> Bool in
            if s.buffer.count + line.count > Self.maxBuffered {
                s.lost += 1
                return false
            }
            s.buffer += line
            if s.flushing { return false }
            s.flushing = true
            return true
        }
        if startFlush { NIOThreadPool.singleton.submit { _ in self.flushLoop() } }
    }

    /// Lines that could not be buffered because the disk fell behind.
    var lostRecords: Int { state.withLockedValue { $0.lost } }

    /// Writes everything buffered now (at shutdown), from the calling thread, after any flush under way.
    func flushNow() {
        for _ in 0..<1000 where state.withLockedValue({ $0.flushing }) { usleep(1000) }
        while true {
            let chunk = state.withLockedValue { s -> [UInt8] in
                let c = s.buffer
                s.buffer = []
                return c
            }
            if chunk.isEmpty { return }
            write(chunk)
        }
    }

    private func flushLoop() {
        while true {
            let chunk = state.withLockedValue { s -> [UInt8] in
                let c = s.buffer
                s.buffer = []
                if c.isEmpty { s.flushing = false }
                return c
            }
            if chunk.isEmpty { return }
            write(chunk)
        }
    }

    private func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n <= 0 {
                    if n < 0 && errno == EINTR { continue }
                    return
                }
                offset += n
            }
        }
    }
}

/// A failure to start or run the proxy, with secrets already removed.
public struct ShadowError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
