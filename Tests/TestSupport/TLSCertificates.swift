import Foundation

/// A throwaway CA with a server certificate and a client certificate it signed, plus an unrelated
/// CA: PEM files made by `openssl` in a temporary directory. The server certificate names
/// `localhost` only, as real ones name hosts: connecting by IP address must fail its name check.
public final class TLSCertificates: Sendable {
    public let directory: URL
    /// The CA that signed both certificates.
    public var caFile: String { path("ca.crt") }
    /// A CA that signed neither: trusting it must fail.
    public var otherCAFile: String { path("other-ca.crt") }
    public var serverCertificate: String { path("server.crt") }
    public var serverKey: String { path("server.key") }
    public var clientCertificate: String { path("client.crt") }
    public var clientKey: String { path("client.key") }

    /// Generates everything (EC P-256 keys: a few tens of milliseconds).
    public init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("upshift-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        for ca in ["ca", "other-ca"] {
            try openssl(
                ["req", "-x509", "-new"] + ec + ["-keyout", "\(ca).key", "-out", "\(ca).crt", "-days", "2", "-subj", "/CN=upshift \(ca)"])
        }
        let leaves = [
            ("server", "subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n"),
            ("client", "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n"),
        ]
        for (name, extensions) in leaves {
            try Data(extensions.utf8).write(to: directory.appendingPathComponent("\(name).ext"))
            try openssl(
                ["req", "-new"] + ec + [
                    "-keyout", "\(name).key", "-out", "\(name).csr", "-subj", "/CN=\(name == "server" ? "localhost" : "upshift-client")",
                ])
            try openssl([
                "x509", "-req", "-in", "\(name).csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "\(name).crt",
                "-days", "2",
                "-extfile", "\(name).ext",
            ])
        }
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    /// `redis-server` arguments that serve TLS on `port` with these files.
    public func serverArguments(port: Int, authClients: Bool) -> [String] {
        [
            "--tls-port", "\(port)", "--tls-cert-file", serverCertificate, "--tls-key-file", serverKey, "--tls-ca-cert-file", caFile,
            "--tls-auth-clients", authClients ? "yes" : "no",
        ]
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    private func openssl(_ arguments: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try which("openssl"))
        p.arguments = arguments
        p.currentDirectoryURL = directory
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw TestSupportError("openssl \(arguments.prefix(2).joined(separator: " ")) failed") }
    }
}
