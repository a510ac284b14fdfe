import NIOConcurrencyHelpers
import NIOCore
import NIOSSL

#if canImport(Glibc)
    import Glibc
#endif

/// How a `rediss://` connection trusts the server and proves who it is: the CA to trust (the
/// system's by default), an optional client certificate for mutual TLS, and whether to verify at all.
///
/// Carried by `RedisURL.tls`, so every client built from a URL uses it; a URL gives it as query
/// parameters (`?tls-ca=FILE&tls-cert=FILE&tls-key=FILE&tls-insecure=true&tls-server-name=NAME`).
public struct RedisTLS: Sendable, Hashable {
    /// PEM file of the CA certificates to trust instead of the system's.
    public var caFile: String?
    /// PEM certificate (chain) presented to a server that asks for one (mutual TLS).
    public var certificateFile: String?
    /// PEM private key of `certificateFile`.
    public var keyFile: String?
    /// False accepts any certificate: encrypted, but anyone in between can pose as the server.
    public var verify: Bool
    /// The name sent as SNI and checked against the certificate; nil means the URL's host when it is a hostname.
    public var serverName: String?

    /// Settings that trust the system's CAs and present no client certificate.
    public init(
        caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil, verify: Bool = true, serverName: String? = nil
    ) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.verify = verify
        self.serverName = serverName
    }

    /// Checks that the files exist and the certificate comes with its key, without loading them.
    public func validate(endpoint: String) throws(RedisClientError) {
        let invalid = { (why: String) in RedisClientError(.tlsFailed, endpoint: endpoint, detail: why) }
        if (certificateFile == nil) != (keyFile == nil) {
            throw invalid("a client certificate needs its key: give both --tls-cert FILE and --tls-key FILE")
        }
        for (flag, path) in [("--tls-ca", caFile), ("--tls-cert", certificateFile), ("--tls-key", keyFile)] {
            if let path, access(path, R_OK) != 0 { throw invalid("cannot read \(flag) \(path)") }
        }
    }

    /// Adds the TLS client handler for `url` to a channel being initialized (call on its event loop,
    /// e.g. in a `channelInitializer`); does nothing for a plaintext URL. Connections built by
    /// `RedisConnection` do this themselves: this is for code with its own `ClientBootstrap`.
    public static func addHandler(to channel: any Channel, for url: RedisURL) throws(RedisClientError) {
        guard let tls = url.tls else { return }
        guard case .tcp(let host, _) = url.address else {
            throw RedisClientError(.tlsFailed, endpoint: url.endpoint, detail: "TLS is for TCP addresses, not unix sockets")
        }
        let context = try tls.context(endpoint: url.endpoint)
        do {
            let handler = try NIOSSLClientHandler(context: context, serverHostname: tls.sniName(host: host))
            try channel.pipeline.syncOperations.addHandler(handler)
        } catch {
            throw RedisClientError(.tlsFailed, endpoint: url.endpoint, detail: Self.describe(error) ?? "\(error)")
        }
    }

    /// SNI and the name verified: the override, else the host unless it is an IP address (SNI cannot carry one;
    /// the certificate is then checked against the peer's address).
    func sniName(host: String) -> String? {
        if let serverName { return serverName }
        return (try? SocketAddress(ipAddress: host, port: 0)) == nil ? host : nil
    }

    private static let contexts = NIOLockedValueBox<[RedisTLS: NIOSSLContext]>([:])
    private static let warned = NIOLockedValueBox<Set<String>>([])

    /// The SSL context for these settings, loaded once per process (system trust store, PEM files).
    func context(endpoint: String) throws(RedisClientError) -> NIOSSLContext {
        if !verify { Self.warnInsecure(endpoint: endpoint) }
        if let cached = Self.contexts.withLockedValue({ $0[self] }) { return cached }
        try validate(endpoint: endpoint)
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let caFile {
            do {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
            } catch {
                throw RedisClientError(.tlsFailed, endpoint: endpoint, detail: "cannot load --tls-ca \(caFile): not a PEM certificate file")
            }
        }
        if let certificateFile, let keyFile {
            do {
                configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(certificateFile).map { .certificate($0) }
            } catch {
                throw RedisClientError(
                    .tlsFailed, endpoint: endpoint, detail: "cannot load --tls-cert \(certificateFile): not a PEM certificate")
            }
            do {
                configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
            } catch {
                throw RedisClientError(.tlsFailed, endpoint: endpoint, detail: "cannot load --tls-key \(keyFile): not a PEM private key")
            }
        }
        if !verify { configuration.certificateVerification = .none }
        let context: NIOSSLContext
        do {
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw RedisClientError(.tlsFailed, endpoint: endpoint, detail: Self.describe(error) ?? "cannot set up TLS: \(error)")
        }
        Self.contexts.withLockedValue { $0[self] = context }
        return context
    }

    /// The one loud line an operator must not miss, once per endpoint per process.
    private static func warnInsecure(endpoint: String) {
        guard warned.withLockedValue({ $0.insert(endpoint).inserted }) else { return }
        let line = Array(
            "WARNING: TLS certificate verification is OFF for \(endpoint) (--tls-insecure): the traffic is encrypted, but anyone on the path can pose as the server and read your data and password\n"
                .utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }

    /// One line for a TLS failure, with what to do about it; nil when `error` is not about TLS.
    static func describe(_ error: any Error) -> String? {
        if let extra = error as? NIOSSLExtraError {
            if extra == .failedToValidateHostname {
                return
                    "the server's certificate does not name this host; connect by a name in the certificate, or give --tls-server-name NAME"
            }
            return "TLS: \(extra)"
        }
        if let boring = error as? BoringSSLError { return describe(boringSSL: "\(boring)") }
        guard let ssl = error as? NIOSSLError else { return nil }
        switch ssl {
        case .handshakeFailed(let inner), .shutdownFailed(let inner): return describe(boringSSL: "\(inner)")
        case .uncleanShutdown:
            return "TLS: the server closed the connection without a TLS close (did it refuse the client certificate?)"
        case .failedToLoadCertificate: return "TLS: cannot load a certificate"
        case .failedToLoadPrivateKey: return "TLS: cannot load the private key"
        default: return "TLS: \(ssl)"
        }
    }

    /// What BoringSSL's error stack means for the operator.
    private static func describe(boringSSL text: String) -> String {
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            return
                "TLS handshake failed: the server's certificate is not signed by a trusted CA (give --tls-ca FILE with the CA that signed it)"
        }
        if text.contains("CERTIFICATE_REQUIRED") || text.contains("HANDSHAKE_FAILURE") || text.contains("UNKNOWN_CA")
            || text.contains("BAD_CERTIFICATE")
        {
            return
                "TLS handshake failed: the server refused this client (it wants a client certificate its CA signed: --tls-cert FILE --tls-key FILE)"
        }
        if text.contains("WRONG_VERSION_NUMBER") || text.contains("PACKET_LENGTH_TOO_LONG") {
            return "TLS handshake failed: the server does not speak TLS on this port (use redis:// or the TLS port)"
        }
        return "TLS handshake failed: \(Self.reasons(text))"
    }

    /// BoringSSL's reason codes (`CERTIFICATE_VERIFY_FAILED`) from its error stack text, without file names.
    private static func reasons(_ text: String) -> String {
        var found: [String] = []
        for part in text.split(separator: ":") where part.count > 3 && part.allSatisfy({ $0.isUppercase || $0 == "_" }) {
            found.append(String(part))
        }
        return found.isEmpty ? text : found.joined(separator: ", ")
    }
}

extension RedisTLS {
    /// The URL query parameters that carry TLS settings: ours, and the names redis-py reads.
    static let queryNames: Set<String> = [
        "tls-ca", "tls-cert", "tls-key", "tls-insecure", "tls-server-name", "ssl_ca_certs", "ssl_certfile", "ssl_keyfile", "ssl_cert_reqs",
    ]

    /// Sets one query parameter; returns why it is invalid, or nil.
    mutating func apply(name: String, value: String) -> String? {
        switch name {
        case "tls-ca", "ssl_ca_certs": caFile = value
        case "tls-cert", "ssl_certfile": certificateFile = value
        case "tls-key", "ssl_keyfile": keyFile = value
        case "tls-server-name": serverName = value
        case "tls-insecure":
            guard let on = ["true": true, "1": true, "yes": true, "": true, "false": false, "0": false, "no": false][value] else {
                return "tls-insecure is true or false"
            }
            verify = !on
        case "ssl_cert_reqs":
            guard let on = ["none": false, "optional": true, "required": true][value.lowercased()] else {
                return "ssl_cert_reqs is none, optional or required"
            }
            verify = on
        default: return "unknown TLS setting \(name)"
        }
        if value.isEmpty && name != "tls-insecure" { return "\(name) needs a value" }
        return nil
    }
}
