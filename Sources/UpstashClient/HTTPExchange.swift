/// One HTTP request as the curl engine sends it.
struct HTTPRequest: Sendable {
    /// The full URL, path included.
    var url: String
    /// Header lines, `Name: value`.
    var headers: [String]
    /// Sent as the POST body, unchanged.
    var body: [UInt8]
    /// The whole exchange's deadline, connect included.
    var timeout: Duration
    /// How long to wait for a TCP (and TLS) connection.
    var connectTimeout: Duration
    /// Set for a stream (server-sent events): a 2xx body goes here chunk by chunk as it arrives,
    /// on the curl thread, and the exchange has no deadline; another status's body is kept as usual.
    var onBody: (@Sendable ([UInt8]) -> Void)? = nil
}

/// One HTTP response: status, headers (names lower-cased), body bytes.
struct HTTPResponse: Sendable {
    var status: Int
    var headers: [String: String]
    var body: [UInt8]

    /// True for a 2xx status.
    var isSuccess: Bool { (200..<300).contains(status) }
}

/// Why an exchange produced no HTTP response: libcurl's code and text.
struct TransportFailure: Error, Sendable {
    enum Reason: Sendable, Hashable {
        case refused
        case timeout
        case resolve
        case cancelled
        case closed
        case other
    }
    let reason: Reason
    /// libcurl's explanation (never contains request headers, so never the token).
    let message: String
}
