import Foundation
import JSON
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RESP

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
        let line = record.jsonBytes()
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
