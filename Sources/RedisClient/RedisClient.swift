import Logging
import NIOCore
import NIOPosix
import RESP

/// A Redis server as a `Backend`: a few pipelined connections, reconnected when they drop.
///
/// Commands that change a connection's state (SELECT, CLIENT, MULTI without EXEC in the
/// same batch) must not be sent through it: give the database in the URL instead.
public actor RedisClient: Backend {
    public nonisolated let url: RedisURL
    public nonisolated let options: RedisConnectionOptions
    private let logger: Logger
    private var connections: [RedisConnection?]
    private var next = 0

    /// A client for `url`; nothing connects until the first command (or `connect()`).
    public init(
        url: RedisURL, connections: Int = 1, options: RedisConnectionOptions = .init(), logger: Logger = Logger(label: "upshift.redis")
    ) {
        self.url = url
        self.options = options
        self.logger = logger
        self.connections = Array(repeating: nil, count: max(1, connections))
    }

    public nonisolated var displayName: String { url.description }

    /// Opens the first connection now, so a bad address or password fails early.
    public func connect() async throws(RedisClientError) {
        _ = try await connection(index: 0)
    }

    private func connection(index: Int) async throws(RedisClientError) -> RedisConnection {
        if let c = connections[index], c.isActive { return c }
        let c = try await RedisConnection.connect(to: url, options: options, logger: logger)
        if let raced = connections[index], raced.isActive {
            await c.close()
            return raced
        }
        connections[index] = c
        return c
    }

    public func send(batch commands: [RESPCommand]) async throws -> [RESPValue] {
        let index = next
        next = (next + 1) % connections.count
        return try await connection(index: index).send(batch: commands)
    }

    public func send(_ command: RESPCommand) async throws -> RESPValue {
        try await send(batch: [command])[0]
    }

    public func close() async {
        for c in connections { await c?.close() }
        connections = connections.map { _ in nil }
    }

    /// Every key matching the options, a page per SCAN round trip.
    public nonisolated func scan(_ options: ScanOptions = .init()) -> ScanSequence {
        ScanSequence(backend: self, options: options)
    }
}
