import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RESP

#if canImport(Glibc)
    import Glibc
#endif

/// How long to wait for a server, and how large its replies may be.
public struct RedisConnectionOptions: Sendable {
    public var connectTimeout: TimeAmount
    /// No reply within this time fails every pending request and closes the connection; nil waits forever.
    public var readTimeout: TimeAmount?
    public var limits: RESPLimits
    /// Sends READONLY after login: a cluster replica then serves reads of its master's slots.
    public var readOnly: Bool

    /// Options with a 5 s connect timeout and a 30 s read timeout.
    public init(
        connectTimeout: TimeAmount = .seconds(5), readTimeout: TimeAmount? = .seconds(30), limits: RESPLimits = .server,
        readOnly: Bool = false
    ) {
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
        self.limits = limits
        self.readOnly = readOnly
    }
}

/// One connection to a Redis server: logged in, on its database, pipelining every batch in one write.
///
/// Safe to share between tasks: each batch is written contiguously, so replies never interleave.
/// Never blocks an event loop.
public final class RedisConnection: Sendable {
    public let url: RedisURL
    let channel: any Channel
    /// Why the connection failed, kept beside the pipeline, which forgets its handlers when it closes.
    private let failure: NIOLockedValueBox<RedisClientError?>

    private init(url: RedisURL, channel: any Channel, failure: NIOLockedValueBox<RedisClientError?>) {
        self.url = url
        self.channel = channel
        self.failure = failure
    }

    /// Connects, authenticates and selects the URL's database.
    public static func connect(
        to url: RedisURL,
        options: RedisConnectionOptions = .init(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "upshift.redis")
    ) async throws(RedisClientError) -> RedisConnection {
        let endpoint = url.endpoint
        // Loaded here, off the channel initializer, so a bad CA file fails before any connect.
        if let tls = url.tls { _ = try tls.context(endpoint: endpoint) }
        // Each attempted channel's handshake, kept here because a failed handshake tears the pipeline down.
        let handshakes = NIOLockedValueBox<[ObjectIdentifier: EventLoopFuture<Void>]>([:])
        let failure = NIOLockedValueBox<RedisClientError?>(nil)
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(options.connectTimeout)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if case .tcp = url.address {
                        try channel.syncOptions?.setOption(.socketOption(.tcp_nodelay), value: 1)
                    }
                    if url.tls != nil {
                        try RedisTLS.addHandler(to: channel, for: url)
                        let waiter = TLSHandshakeWaiter(timeout: options.connectTimeout)
                        try channel.pipeline.syncOperations.addHandler(waiter)
                        if let future = waiter.future { handshakes.withLockedValue { $0[ObjectIdentifier(channel)] = future } }
                    }
                    try channel.pipeline.syncOperations.addHandler(
                        RedisClientHandler(endpoint: endpoint, readTimeout: options.readTimeout, limits: options.limits, failure: failure)
                    )
                }
            }
        let channel: any Channel
        do {
            switch url.address {
            case .tcp(let host, let port): channel = try await bootstrap.connect(host: host, port: port).get()
            case .unix(let path): channel = try await bootstrap.connect(unixDomainSocketPath: path).get()
            }
        } catch let error as RedisClientError {
            throw error
        } catch let error as ChannelError {
            if case .connectTimeout = error {
                throw RedisClientError(
                    .timeout, endpoint: endpoint, detail: "connect timed out after \(options.connectTimeout.nanoseconds / 1_000_000) ms")
            }
            throw RedisClientError(.connectFailed, endpoint: endpoint, detail: "\(error)")
        } catch {
            if Self.isRefused(error) {
                throw RedisClientError(.connectionRefused, endpoint: endpoint, detail: "connection refused")
            }
            throw RedisClientError(.connectFailed, endpoint: endpoint, detail: Self.describe(error))
        }
        let connection = RedisConnection(url: url, channel: channel, failure: failure)
        do {
            if let handshake = handshakes.withLockedValue({ $0[ObjectIdentifier(channel)] }) {
                try await connection.waitForTLS(handshake)
            }
            try await connection.handshake(readOnly: options.readOnly)
        } catch {
            await connection.close()
            throw error
        }
        logger.debug("connected", metadata: ["redis": "\(url)"])
        return connection
    }

    private func waitForTLS(_ handshake: EventLoopFuture<Void>) async throws(RedisClientError) {
        do {
            try await handshake.get()
        } catch let timeout as TLSHandshakeWaiter.Timeout {
            throw RedisClientError(
                .timeout, endpoint: url.endpoint,
                detail: "no TLS handshake within \(timeout.after.nanoseconds / 1_000_000) ms (is this its TLS port?)")
        } catch ChannelError.eof {
            throw RedisClientError(
                .tlsFailed, endpoint: url.endpoint, detail: "the server hung up during the TLS handshake (is this its TLS port?)")
        } catch {
            throw RedisClientError(.tlsFailed, endpoint: url.endpoint, detail: RedisTLS.describe(error) ?? Self.describe(error))
        }
    }

    private func handshake(readOnly: Bool) async throws(RedisClientError) {
        if let password = url.password {
            let auth = url.username.map { RESPCommand("AUTH", $0, password) } ?? RESPCommand("AUTH", password)
            let reply = try await send(auth)
            if case .error(let text) = reply {
                throw RedisClientError(.authFailed, endpoint: url.endpoint, detail: String(decoding: text, as: UTF8.self))
            }
        }
        if url.database != 0 {
            let reply = try await send(RESPCommand("SELECT", url.database))
            if case .error(let text) = reply {
                throw RedisClientError(.selectFailed, endpoint: url.endpoint, detail: String(decoding: text, as: UTF8.self))
            }
        }
        if readOnly {
            let reply = try await send(RESPCommand("READONLY"))
            if case .error(let text) = reply {
                throw RedisClientError(.protocolError, endpoint: url.endpoint, detail: "READONLY: " + String(decoding: text, as: UTF8.self))
            }
        } else if url.tls != nil && url.password == nil && url.database == 0 {
            // Under TLS 1.3 a server refuses a client certificate only after the handshake: one round
            // trip here makes that refusal a connect error, not the first command's.
            _ = try await send(RESPCommand("PING"))
        }
    }

    /// Sends commands in one write; replies come back in order. Error replies are values.
    public func send(batch commands: [RESPCommand]) async throws(RedisClientError) -> [RESPValue] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(commands.reduce(0) { $0 + $1.encodedSize })
        for c in commands { RESPSerializer.write(c, into: &bytes) }
        return try await sendEncoded(bytes, replyCount: commands.count)
    }

    /// Sends one command.
    public func send(_ command: RESPCommand) async throws(RedisClientError) -> RESPValue {
        try await send(batch: [command])[0]
    }

    /// Sends bytes already in RESP form that produce `replyCount` replies (a proxy forwarding a client's pipeline).
    public func sendEncoded(_ bytes: [UInt8], replyCount: Int) async throws(RedisClientError) -> [RESPValue] {
        do {
            return try await write(encoded: bytes, replyCount: replyCount).get()
        } catch let error as RedisClientError {
            throw error
        } catch {
            throw RedisClientError(.connectionClosed, endpoint: url.endpoint, detail: Self.describe(error))
        }
    }

    /// The same without a task: the replies complete a future on `eventLoop`, so a caller on that
    /// loop never leaves it (the shadow's mirror lanes). Fails with a `RedisClientError`.
    public func write(encoded bytes: [UInt8], replyCount: Int) -> EventLoopFuture<[RESPValue]> {
        let promise = channel.eventLoop.makePromise(of: [RESPValue].self)
        // A closed channel's pipeline no longer reaches our handler: the failed write must fail the request.
        let written = channel.eventLoop.makePromise(of: Void.self)
        let endpoint = url.endpoint
        let failure = self.failure
        written.futureResult.whenFailure { error in
            promise.fail(
                failure.withLockedValue { $0 } ?? RedisClientError(.connectionClosed, endpoint: endpoint, detail: Self.describe(error)))
        }
        channel.writeAndFlush(RedisRequest(bytes: bytes, replyCount: replyCount, promise: promise), promise: written)
        return promise.futureResult
    }

    /// The event loop the connection lives on.
    public var eventLoop: any EventLoop { channel.eventLoop }

    /// True while the connection can carry requests.
    public var isActive: Bool { channel.isActive }

    /// Closes the connection; pending requests fail.
    public func close() async {
        try? await channel.close()
    }

    /// NIO reports a refused connect as an IOError, or wrapped in one NIOConnectionError per address tried.
    static func isRefused(_ error: any Error) -> Bool {
        if let io = error as? IOError { return io.errnoCode == ECONNREFUSED }
        if let multi = error as? NIOConnectionError {
            return !multi.connectionErrors.isEmpty && multi.connectionErrors.allSatisfy { isRefused($0.error) }
        }
        return false
    }

    static func describe(_ error: any Error) -> String {
        if let io = error as? IOError { return io.description }
        return "\(error)"
    }
}
