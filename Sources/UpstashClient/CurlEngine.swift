import CCurl
import Foundation
import NIOConcurrencyHelpers

/// libcurl's multi interface on one dedicated thread: many requests in flight, connections kept
/// alive and reused, and no curl call ever made on the Swift cooperative pool.
///
/// Callers hand a request over and suspend; the curl thread resumes them when the exchange ends.
final class CurlEngine: Sendable {
    private struct Inbox {
        var added: [CurlTransfer] = []
        var cancelled: [CurlTransfer] = []
        var stopping = false
    }

    private let inbox = NIOLockedValueBox(Inbox())
    private let multi: MultiHandle

    /// Starts the thread. `maxConnections` caps the connections to one host.
    init(maxConnections: Int) {
        CurlGlobal.initialize()
        let multi = MultiHandle()
        _ = ccurl_multi_setopt_long(multi.pointer, CURLMOPT_MAX_HOST_CONNECTIONS, maxConnections)
        _ = ccurl_multi_setopt_long(multi.pointer, CURLMOPT_MAXCONNECTS, maxConnections)
        self.multi = multi
        let thread = Thread { [inbox] in
            var loop = CurlLoop(multi: multi) {
                inbox.withLockedValue { box in
                    defer {
                        box.added = []
                        box.cancelled = []
                    }
                    return (box.added, box.cancelled, box.stopping)
                }
            }
            loop.run()
        }
        thread.name = "upshift-curl"
        thread.start()
    }

    /// Runs one exchange; returns libcurl's failure rather than throwing so callers keep typed errors.
    func perform(_ request: HTTPRequest) async -> Result<HTTPResponse, TransportFailure> {
        let transfer = CurlTransfer(request: request)
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                guard transfer.attach(continuation) else {
                    continuation.resume(returning: .failure(TransportFailure(reason: .cancelled, message: "cancelled")))
                    return
                }
                let accepted = inbox.withLockedValue { box -> Bool in
                    guard !box.stopping else { return false }
                    box.added.append(transfer)
                    return true
                }
                if accepted {
                    _ = curl_multi_wakeup(multi.pointer)
                } else {
                    transfer.finish(.failure(TransportFailure(reason: .closed, message: "client closed")))
                }
            }
        } onCancel: {
            transfer.markCancelled()
            inbox.withLockedValue { $0.cancelled.append(transfer) }
            _ = curl_multi_wakeup(multi.pointer)
        }
    }

    /// Fails what is in flight and ends the thread; requests after this fail at once.
    func shutdown() {
        let first = inbox.withLockedValue { box -> Bool in
            defer { box.stopping = true }
            return !box.stopping
        }
        if first { _ = curl_multi_wakeup(multi.pointer) }
    }
}

/// The multi handle, created on the caller's thread and afterwards used only by the curl thread
/// (and `curl_multi_wakeup`, which libcurl documents as callable from any thread).
final class MultiHandle: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    init() {
        guard let m = curl_multi_init() else { fatalError("curl_multi_init failed: out of memory") }
        pointer = m
    }

    deinit { curl_multi_cleanup(pointer) }
}

/// `curl_global_init`, exactly once per process, before any other curl call.
enum CurlGlobal {
    private static let done: Bool = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK
    }()

    static func initialize() {
        precondition(done, "curl_global_init failed")
    }
}

/// The body of the curl thread.
private struct CurlLoop {
    let multi: MultiHandle
    /// Takes what callers queued: new transfers, cancellations, and whether to stop.
    let inbox: () -> ([CurlTransfer], [CurlTransfer], Bool)
    private var active: [ObjectIdentifier: CurlTransfer] = [:]

    init(multi: MultiHandle, inbox: @escaping () -> ([CurlTransfer], [CurlTransfer], Bool)) {
        self.multi = multi
        self.inbox = inbox
    }

    mutating func run() {
        let m = multi.pointer
        while true {
            let (added, cancelled, stopping) = inbox()
            for t in added { start(t) }
            // The inbox holds the cancelled transfer itself, so its identity cannot be reused meanwhile.
            for c in cancelled {
                if let t = active.removeValue(forKey: ObjectIdentifier(c)) {
                    remove(t)
                    t.finish(.failure(TransportFailure(reason: .cancelled, message: "cancelled")))
                }
            }
            if stopping {
                for t in active.values {
                    remove(t)
                    t.finish(.failure(TransportFailure(reason: .closed, message: "client closed")))
                }
                active = [:]
                // The multi handle itself is freed by MultiHandle's deinit, once no caller can
                // still wake it (a late cancellation may call curl_multi_wakeup after this).
                return
            }
            var running: Int32 = 0
            _ = curl_multi_perform(m, &running)
            var left: Int32 = 0
            while let msg = curl_multi_info_read(m, &left) {
                guard msg.pointee.msg == CURLMSG_DONE, let easy = msg.pointee.easy_handle else { continue }
                var raw: UnsafeMutableRawPointer?
                _ = ccurl_easy_getinfo_ptr(easy, CURLINFO_PRIVATE, &raw)
                guard let raw else { continue }
                let t = Unmanaged<CurlTransfer>.fromOpaque(raw).takeUnretainedValue()
                let result = t.outcome(ccurl_msg_result(msg))
                active.removeValue(forKey: ObjectIdentifier(t))
                remove(t)
                t.finish(result)
            }
            // Woken early by curl_multi_wakeup when a caller queues work; libcurl shortens the
            // wait itself when one of its own timers (timeouts, retries) is due.
            _ = curl_multi_poll(m, nil, 0, 1000, nil)
        }
    }

    private mutating func start(_ t: CurlTransfer) {
        if t.isCancelled {
            t.finish(.failure(TransportFailure(reason: .cancelled, message: "cancelled")))
            return
        }
        if let failure = t.prepare() {
            t.cleanup()
            t.finish(.failure(failure))
            return
        }
        let rc = curl_multi_add_handle(multi.pointer, t.easy)
        guard rc == CURLM_OK else {
            t.cleanup()
            t.finish(.failure(TransportFailure(reason: .other, message: String(cString: curl_multi_strerror(rc)))))
            return
        }
        active[ObjectIdentifier(t)] = t
    }

    private func remove(_ t: CurlTransfer) {
        if let easy = t.easy { _ = curl_multi_remove_handle(multi.pointer, easy) }
        t.cleanup()
    }
}
