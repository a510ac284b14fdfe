import ArgumentParser
import Foundation
import RESP
import RedisClient

/// `--source`, with `REDIS_URL` as the fallback, and how to speak TLS to it.
struct SourceOptions: ParsableArguments {
    @Option(name: .long, help: "The Redis to read: redis://[user:pass@]host:port[/db], rediss://…, unix:///path. Env: REDIS_URL.")
    var source: String?

    @Option(
        name: .customLong("tls-ca"), help: "PEM file of the CA that signed a rediss:// source's certificate (default: the system's CAs).")
    var tlsCA: String?
    @Option(name: .customLong("tls-cert"), help: "Client certificate (PEM) for a source that requires one (mutual TLS); with --tls-key.")
    var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "Private key (PEM) of --tls-cert.")
    var tlsKey: String?
    @Option(name: .customLong("tls-server-name"), help: "Name sent as SNI and checked in the source's certificate (default: its host).")
    var tlsServerName: String?
    @Flag(name: .customLong("tls-insecure"), help: "Do not verify the source's certificate: encrypted but not authenticated; warns.")
    var tlsInsecure = false
    @Option(
        name: .customLong("read-from"),
        help: "On a Redis Cluster source: masters, or replicas (SCAN and reads on the replicas, sparing the masters).")
    var readFrom: ReadFrom = .masters

    /// A client for the source: for a Redis Cluster (found by `INFO cluster` on the seed) one that
    /// reads every master (or replica) — only those with slots of `shard` when given — else a plain client.
    func backend(_ url: RedisURL, connections: Int, shard: Shard? = nil) async throws -> any Backend {
        try await preflight(url)
        do {
            if try await RedisClusterClient.isCluster(url) {
                let cluster = try await RedisClusterClient.connect(seed: url, readFrom: readFrom, connections: connections)
                await cluster.restrictScan(to: shard?.slots)
                return cluster
            }
        } catch let error as RedisClientError {
            throw CLIError(error.description)
        }
        return RedisClient(url: url, connections: connections)
    }

    /// Connects and sends one PING, so a source that wants a password the URL does not give
    /// says so in words (`NOAUTH` would otherwise surface as some later command's failure).
    func preflight(_ url: RedisURL) async throws {
        do {
            let connection = try await RedisConnection.connect(to: url)
            let reply = try? await connection.send(RESPCommand("PING"))
            await connection.close()
            if let reply, RedisClientError.isNoAuth(reply) {
                throw RedisClientError.passwordRequired(endpoint: url.endpoint, role: "source")
            }
        } catch let error as RedisClientError {
            throw CLIError(error.description)
        }
    }

    /// The parsed URL with the `--tls-*` settings applied, or nil when neither the flag nor the environment names one.
    func url() throws -> RedisURL? {
        guard let text = source ?? ProcessInfo.processInfo.environment["REDIS_URL"] else { return nil }
        var url: RedisURL
        do {
            url = try RedisURL(text)
        } catch {
            throw ValidationError(error.description)
        }
        let given =
            [("--tls-ca", tlsCA), ("--tls-cert", tlsCert), ("--tls-key", tlsKey), ("--tls-server-name", tlsServerName)]
            .filter { $0.1 != nil }.map(\.0) + (tlsInsecure ? ["--tls-insecure"] : [])
        guard var tls = url.tls else {
            if let first = given.first { throw ValidationError("\(first) is for a TLS source: use rediss://") }
            return url
        }
        if let tlsCA { tls.caFile = tlsCA }
        if let tlsCert { tls.certificateFile = tlsCert }
        if let tlsKey { tls.keyFile = tlsKey }
        if let tlsServerName { tls.serverName = tlsServerName }
        if tlsInsecure { tls.verify = false }
        do {
            try tls.validate(endpoint: url.endpoint)
        } catch {
            throw ValidationError(error.description)
        }
        url.tls = tls
        return url
    }
}
