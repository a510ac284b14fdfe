import Foundation

/// `upshift gateway` started as a child process on a free port, in front of a test's redis-server.
public final class GatewayProcess: @unchecked Sendable {
    public let port: Int
    public let token: String
    /// The redis-server it serves.
    public let redis: RedisServer
    private let process: Process

    /// Starts the gateway and waits for its "listening" line. Throws a clear error when the
    /// binary under test has no `gateway` subcommand. `redisURL` overrides how it reaches `redis` (a user, a password).
    public init(redis: RedisServer, token: String = "test-token", arguments: [String] = [], redisURL: String? = nil) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try gatewayBinary())
        p.arguments =
            ["gateway", "--listen", "127.0.0.1:0", "--redis", redisURL ?? redis.url, "--token", token, "--log-level", "error"] + arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        reapWhenTestsDie(p.processIdentifier)
        let (found, seen) = announcedPort(out, of: p, after: "http://127.0.0.1:", then: " ")
        guard let port = found else {
            kill(p.processIdentifier, SIGKILL)
            throw TestSupportError("the gateway did not start: \(seen)")
        }
        self.port = port
        self.token = token
        self.redis = redis
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

/// Runs `body` with a fresh redis-server and a gateway in front of it; stops both afterwards.
public func withGateway<T>(token: String = "test-token", _ body: (GatewayProcess) async throws -> T) async throws -> T {
    try await withRedisServer { redis in
        let gateway = try await offPool { try GatewayProcess(redis: redis, token: token) }
        defer { gateway.stop() }
        return try await body(gateway)
    }
}

/// The binary that serves `upshift gateway`: `$UPSHIFT_GATEWAY_BIN`, else the one under test.
///
/// Tests that need the gateway fail with this message when the binary lacks it, rather than pass
/// without running.
public func gatewayBinary() throws -> String {
    try gatewayBinaryCheck.get()
}

private let gatewayBinaryCheck: Result<String, any Error> = Result {
    let env = ProcessInfo.processInfo.environment
    let binary: String
    if let override = env["UPSHIFT_GATEWAY_BIN"], FileManager.default.isExecutableFile(atPath: override) {
        binary = override
    } else {
        binary = try upshiftBinary()
    }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: binary)
    p.arguments = ["gateway", "--help"]
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    let help = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    guard p.terminationStatus == 0, help.contains("--listen") else {
        throw TestSupportError(
            "this test needs `upshift gateway`, which \(binary) does not have: build a tree that has the gateway, "
                + "or set UPSHIFT_GATEWAY_BIN to an upshift binary that serves it")
    }
    return binary
}

/// Reads a child's standard output until it announces its port (`marker`, the digits, then
/// `terminator`), for 15 s at most; the port (nil when it never came) and what was read.
public func announcedPort(_ out: Pipe, of process: Process, after marker: String, then terminator: Character) -> (Int?, String) {
    var seen = ""
    let deadline = Date().addingTimeInterval(15)
    while Date() < deadline && process.isRunning {
        let chunk = out.fileHandleForReading.availableData
        if chunk.isEmpty { break }
        seen += String(decoding: chunk, as: UTF8.self)
        if let r = seen.range(of: marker) {
            let digits = seen[r.upperBound...].prefix { $0.isNumber }
            if !digits.isEmpty, seen[r.upperBound...].dropFirst(digits.count).first == terminator { return (Int(digits), seen) }
        }
    }
    return (nil, seen)
}
