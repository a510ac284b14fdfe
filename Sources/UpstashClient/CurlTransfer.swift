import CCurl
import NIOConcurrencyHelpers

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One request in flight: its easy handle, the bytes coming back, and the continuation to resume.
///
/// Everything but `cancelled` and `continuation` is touched only by the curl thread.
final class CurlTransfer: @unchecked Sendable {
    typealias Completion = CheckedContinuation<Result<HTTPResponse, TransportFailure>, Never>

    let request: HTTPRequest
    private let state: NIOLockedValueBox<(cancelled: Bool, continuation: Completion?)>
    private(set) var easy: UnsafeMutableRawPointer?
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
    fileprivate var body: [UInt8] = []
    fileprivate var headers: [String: String] = [:]

    init(request: HTTPRequest) {
        self.request = request
        self.state = NIOLockedValueBox((false, nil))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        cleanup()
        errorBuffer.deallocate()
    }

    /// Stores the continuation; false when the caller cancelled first (then nothing is stored).
    func attach(_ continuation: Completion) -> Bool {
        state.withLockedValue { s in
            if s.cancelled { return false }
            s.continuation = continuation
            return true
        }
    }

    /// Marks the transfer cancelled; the curl thread finishes it.
    func markCancelled() {
        state.withLockedValue { $0.cancelled = true }
    }

    var isCancelled: Bool { state.withLockedValue { $0.cancelled } }

    /// Resumes the waiting caller, exactly once.
    func finish(_ result: Result<HTTPResponse, TransportFailure>) {
        let continuation = state.withLockedValue { s -> Completion? in
            defer { s.continuation = nil }
            return s.continuation
        }
        continuation?.resume(returning: result)
    }

    /// Creates and configures the easy handle; nil on success, else why it could not start.
    func prepare() -> TransportFailure? {
        guard let h = curl_easy_init() else { return TransportFailure(reason: .other, message: "curl_easy_init failed") }
        easy = h
        let me = Unmanaged.passUnretained(self).toOpaque()
        var rc = CURLE_OK
        func set(_ code: CURLcode) { if rc == CURLE_OK { rc = code } }
        set(ccurl_easy_setopt_cstr(h, CURLOPT_URL, request.url))
        set(ccurl_easy_setopt_cstr(h, CURLOPT_PROTOCOLS_STR, "http,https"))
        set(ccurl_easy_setopt_long(h, CURLOPT_NOSIGNAL, 1))
        // Percent-encoded `.` segments must reach the server as sent, not be collapsed.
        set(ccurl_easy_setopt_long(h, CURLOPT_PATH_AS_IS, 1))
        set(ccurl_easy_setopt_long(h, CURLOPT_TCP_KEEPALIVE, 1))
        // 0: no deadline, for a stream that lasts as long as its subscriber
        set(ccurl_easy_setopt_long(h, CURLOPT_TIMEOUT_MS, request.onBody == nil ? Self.milliseconds(request.timeout) : 0))
        set(ccurl_easy_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(request.connectTimeout)))
        set(ccurl_easy_setopt_cstr(h, CURLOPT_ACCEPT_ENCODING, ""))
        set(ccurl_easy_setopt_ptr(h, CURLOPT_ERRORBUFFER, errorBuffer))
        set(ccurl_easy_setopt_ptr(h, CURLOPT_PRIVATE, me))
        set(ccurl_easy_setopt_long(h, CURLOPT_POST, 1))
        set(ccurl_easy_setopt_off(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count)))
        set(
            request.body.withUnsafeBytes { raw in
                // COPYPOSTFIELDS copies exactly POSTFIELDSIZE bytes, so NUL bytes travel intact.
                let empty: [CChar] = [0]
                guard let base = raw.baseAddress else {
                    return empty.withUnsafeBufferPointer {
                        ccurl_easy_setopt_ptr(h, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: $0.baseAddress))
                    }
                }
                return ccurl_easy_setopt_ptr(h, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: base))
            })
        // "Expect:" stops curl from waiting for a 100-continue on large bodies.
        for line in request.headers + ["Expect:"] {
            headerList = curl_slist_append(headerList, line)
        }
        set(ccurl_easy_setopt_slist(h, CURLOPT_HTTPHEADER, headerList))
        set(ccurl_easy_setopt_datafn(h, CURLOPT_WRITEFUNCTION, curlWriteBody))
        set(ccurl_easy_setopt_ptr(h, CURLOPT_WRITEDATA, me))
        set(ccurl_easy_setopt_datafn(h, CURLOPT_HEADERFUNCTION, curlWriteHeader))
        set(ccurl_easy_setopt_ptr(h, CURLOPT_HEADERDATA, me))
        if rc != CURLE_OK {
            return TransportFailure(reason: .other, message: "curl setup failed: \(String(cString: curl_easy_strerror(rc)))")
        }
        return nil
    }

    /// The response after curl reported the transfer done with `code`.
    func outcome(_ code: CURLcode) -> Result<HTTPResponse, TransportFailure> {
        guard code == CURLE_OK, let easy else {
            return .failure(failure(code))
        }
        var status = 0
        _ = ccurl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        return .success(HTTPResponse(status: status, headers: headers, body: body))
    }

    private func failure(_ code: CURLcode) -> TransportFailure {
        var osErrno = 0
        if let easy { _ = ccurl_easy_getinfo_long(easy, CURLINFO_OS_ERRNO, &osErrno) }
        let detail = String(cString: errorBuffer)
        // libcurl's own text says "Couldn't connect"; the OS error says why (refused, unreachable).
        var text =
            code == CURLE_COULDNT_CONNECT && osErrno != 0
            ? String(cString: strerror(Int32(osErrno))).lowercased() : String(cString: curl_easy_strerror(code))
        if !detail.isEmpty { text += " (\(detail))" }
        let reason: TransportFailure.Reason
        switch code {
        case CURLE_OPERATION_TIMEDOUT: reason = .timeout
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: reason = .resolve
        case CURLE_COULDNT_CONNECT: reason = osErrno == Int(ECONNREFUSED) ? .refused : .other
        default: reason = .other
        }
        return TransportFailure(reason: reason, message: text)
    }

    /// Frees the easy handle and header list (after removal from the multi handle).
    func cleanup() {
        if let easy { curl_easy_cleanup(easy) }
        easy = nil
        if let headerList { curl_slist_free_all(headerList) }
        headerList = nil
    }

    /// The status line said 2xx (known once the headers are in, before the body).
    fileprivate var responseIsSuccess: Bool {
        var status = 0
        if let easy { _ = ccurl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status) }
        return (200..<300).contains(status)
    }

    fileprivate func appendHeader(_ line: UnsafeRawBufferPointer) {
        var text = String(decoding: line, as: UTF8.self)
        // "\r\n" is one Character in Swift, so compare by newline-ness, not by "\n" or "\r" alone.
        while let last = text.last, last.isNewline { text.removeLast() }
        // A new status line (after a 100 Continue or a redirect) starts a new header set.
        if text.hasPrefix("HTTP/") {
            headers = [:]
            return
        }
        guard let colon = text.firstIndex(of: ":") else { return }
        let name = text[..<colon].lowercased()
        let value = text[text.index(after: colon)...].drop(while: { $0 == " " || $0 == "\t" })
        headers[name] = String(value)
    }

    static func milliseconds(_ d: Duration) -> Int {
        let c = d.components
        return max(1, Int(c.seconds) * 1000 + Int(c.attoseconds / 1_000_000_000_000_000))
    }
}

private func curlWriteBody(_ ptr: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ user: UnsafeMutableRawPointer?) -> Int {
    let n = size * count
    guard let ptr, let user else { return n }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(user).takeUnretainedValue()
    let bytes = UnsafeRawBufferPointer(start: ptr, count: n)
    if let onBody = transfer.request.onBody, transfer.responseIsSuccess {
        onBody(Array(bytes))
    } else {
        transfer.body.append(contentsOf: bytes)
    }
    return n
}

private func curlWriteHeader(_ ptr: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ user: UnsafeMutableRawPointer?) -> Int {
    let n = size * count
    guard let ptr, let user else { return n }
    Unmanaged<CurlTransfer>.fromOpaque(user).takeUnretainedValue().appendHeader(UnsafeRawBufferPointer(start: ptr, count: n))
    return n
}
