import Foundation

/// `upshift gateway` started as a child process on a free port, in front of a test's redis-server.
public final class GatewayProcess: @unchecked Sendable {
    public let port: Int
    public let token: String
    private let process: Process

    /// Starts the gateway and waits for its "listening" line.
    public init(redis: RedisServer, token: String = "test-token", arguments: [String] = []) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try upshiftBinary())
        p.arguments = ["gateway", "--listen", "127.0.0.1:0", "--redis", redis.url, "--token", token, "--log-level", "error"] + arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        reapWhenTestsDie(p.processIdentifier)
        var seen = ""
        let deadline = Date().addingTimeInterval(15)
        var found: Int? = nil
        while found == nil && Date() < deadline && p.isRunning {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += String(decoding: chunk, as: UTF8.self)
            if let r = seen.range(of: "http://127.0.0.1:") {
                let digits = seen[r.upperBound...].prefix { $0.isNumber }
                if !digits.isEmpty, seen[r.upperBound...].dropFirst(digits.count).first == " " { found = Int(digits) }
            }
        }
        guard let port = found else {
            kill(p.processIdentifier, SIGKILL)
            throw TestSupportError("the gateway did not start: \(seen)")
        }
        self.port = port
        self.token = token
        self.process = p
    }

    deinit { stop() }

    /// The REST URL clients use.
    public var url: String { "http://127.0.0.1:\(port)" }

    /// Stops it (SIGKILL: the tests that check graceful shutdown send their own signal).
    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        var status: Int32 = 0
        waitpid(process.processIdentifier, &status, 0)
    }
}
