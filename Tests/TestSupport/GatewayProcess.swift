import Foundation

/// `upshift gateway` as a subprocess in front of a `RedisServer`: the local Upstash-compatible REST
/// endpoint that client and CLI tests talk to.
public final class GatewayProcess: @unchecked Sendable {
    public let port: Int
    public let token: String
    public let redis: RedisServer
    private let process: Process
    private let lock = NSLock()
    private var stopped = false

    /// Starts `upshift gateway --listen 127.0.0.1:PORT --redis … --token …` and waits until it accepts
    /// connections. Throws a clear error when the binary has no `gateway` subcommand.
    public init(redis: RedisServer, token: String, arguments: [String] = []) async throws {
        let binary = try gatewayBinary()
        var lastError: (any Error)?
        for _ in 0..<3 {
            let port = try freePort()
            let p = Process()
            p.executableURL = URL(fileURLWithPath: binary)
            p.arguments =
                ["gateway", "--listen", "127.0.0.1:\(port)", "--redis", redis.url, "--token", token] + arguments
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            reapWhenTestsDie(p.processIdentifier)
            do {
                try await Self.waitUntilListening(p, port: port)
                self.port = port
                self.token = token
                self.redis = redis
                self.process = p
                return
            } catch {
                lastError = error
                RedisServer.terminate(p)
            }
        }
        throw lastError ?? TestSupportError("upshift gateway did not start")
    }

    deinit { stop() }

    /// `http://127.0.0.1:PORT`.
    public var url: String { "http://127.0.0.1:\(port)" }

    /// Kills it now; a second call does nothing.
    public func stop() {
        lock.lock()
        defer { lock.unlock() }
        guard !stopped else { return }
        stopped = true
        RedisServer.terminate(process)
    }

    private static func waitUntilListening(_ process: Process, port: Int) async throws {
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            guard process.isRunning else { throw TestSupportError("upshift gateway exited at start (port \(port) taken?)") }
            if canConnect(port: port) { return }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        throw TestSupportError("upshift gateway on port \(port) did not listen within 15 s")
    }

    private static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}

/// Runs `body` with a fresh redis-server and a gateway in front of it; stops both afterwards.
public func withGateway<T>(token: String = "gw-token-\(UUID().uuidString.prefix(8))", _ body: (GatewayProcess) async throws -> T)
    async throws -> T
{
    try await withRedisServer { redis in
        let gateway = try await GatewayProcess(redis: redis, token: token)
        defer { gateway.stop() }
        return try await body(gateway)
    }
}

/// The binary that serves `upshift gateway`: `$UPSHIFT_GATEWAY_BIN`, else the one under test.
///
/// The gateway is built on its own branch; until it is merged, the binary under test may not
/// have it. Tests that need it then fail with this message rather than pass without running.
public func gatewayBinary() throws -> String {
    let env = ProcessInfo.processInfo.environment
    let binary: String
    if let override = env["UPSHIFT_GATEWAY_BIN"], FileManager.default.isExecutableFile(atPath: override) {
        binary = override
    } else {
        binary = try upshiftBinary()
    }
    let help = try runProgram(binary, ["gateway", "--help"])
    guard help.status == 0, help.stdout.contains("--listen") else {
        throw TestSupportError(
            "this test needs `upshift gateway`, which \(binary) does not have: merge the gateway branch, "
                + "or set UPSHIFT_GATEWAY_BIN to an upshift binary that serves it")
    }
    return binary
}

/// Runs a program to completion and captures its output (for short, quiet commands).
func runProgram(_ path: String, _ arguments: [String]) throws -> CommandResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = arguments
    let out = Pipe()
    let err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return CommandResult(
        status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
}
