import ArgumentParser
import Foundation
import Logging
import NIOCore
import RESP
import RedisClient
import Shadow
import UpstashClient

/// `upshift shadow`: the proxy the app points at during cutover; answers from the primary, mirrors, compares, records.
struct ShadowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shadow",
        abstract: "A RESP proxy: answers from the primary, mirrors to the other side, compares replies, records every divergence.",
        discussion: """
            Divergent keys are written to --keys-out (default: the mismatch log's path + .keys); re-copy them with
              upshift migrate --source PRIMARY --target TARGET --keys-from FILE
            Exit status 1 when any reply diverged for real (class diff).
            """
    )

    @Option(help: "Address to listen on, host:port (port 0 picks a free one).")
    var listen: String = "127.0.0.1:6380"
    @Option(help: "The Redis that answers clients (a Redis Cluster seed node: the whole cluster). Env: REDIS_URL.")
    var primary: String?
    @OptionGroup var target: TargetOptions
    @Option(
        name: .customLong("primary-side"),
        help: "redis (today's primary answers) or upstash (the flip: the target answers, --primary keeps every write for rollback).")
    var primarySide: PrimarySide = .redis
    @Option(help: "shadow (mirror asynchronously) or dual-write (replies wait for both sides).")
    var mode: ShadowConfiguration.Mode = .shadow
    @Option(help: "What to mirror: reads, writes, or reads,writes.")
    var mirror: String = "reads,writes"
    @Option(name: .customLong("read-sample"), help: "Fraction of reads mirrored, 0…1.")
    var readSample: Double = 0.1
    @Option(name: .customLong("mismatch-log"), help: "Append every mismatch to this file as a JSON line.")
    var mismatchLog: String?
    @Option(name: .customLong("keys-out"), help: "Write divergent keys here (the migrate --keys-from format).")
    var keysOut: String?
    @Flag(name: .customLong("show-values"), help: "Keep values in mismatch records (redacted by default).")
    var showValues = false
    @Option(name: .customLong("queue-limit"), help: "Mirrored commands waiting at most; past it they are dropped and recorded.")
    var queueLimit: Int = 100_000
    @Option(name: .customLong("mirror-timeout"), help: "Milliseconds to wait for the mirror side before calling it unavailable.")
    var mirrorTimeout: Int = 2000
    @Option(name: .customLong("drain-timeout"), help: "Seconds shutdown waits for the mirror queue to drain.")
    var drainTimeout: Double = 5
    @Option(name: .customLong("ttl-tolerance"), help: "Milliseconds within which TTL/PTTL replies count as ttl-skew.")
    var ttlTolerance: Int64 = 1000
    @Option(help: "Serve Prometheus metrics on host:port (/metrics).")
    var metrics: String?
    @Option(name: .customLong("max-clients"), help: "Client connections accepted at once.")
    var maxClients: Int = 10_000
    @Option(
        name: .customLong("db-prefix"),
        help:
            "N=PREFIX: mirror writes made in database N under PREFIX (as migrate --db N --key-prefix PREFIX copies it). Repeatable; writes in other databases are recorded as not mirrored."
    )
    var dbPrefix: [String] = []
    @Option(name: .customLong("max-request"), help: "Largest single request a client may send, in bytes (k, m, g suffixes).")
    var maxRequest: String = "512m"
    @Option(
        name: .customLong("max-client-buffer"), help: "Bytes a client may have waiting in the proxy before it is disconnected (k, m, g).")
    var maxClientBuffer: String = "1g"
    @Option(help: "Event loop threads serving clients (default: one per core).")
    var threads: Int?
    @Flag(
        help:
            "One primary connection per client from the start (by default clients share a few until they send a connection-bound command: SELECT, MULTI, WATCH, blocking pops, SUBSCRIBE, CLIENT…)."
    )
    var ownPrimaryConnections = false
    @Option(name: .customLong("log-level"), help: "How much to log.")
    var logLevel: Logger.Level = .info

    func validate() throws {
        _ = try configuration()
    }

    /// The flip: the target answers clients and the --primary Redis is written for rollback.
    private var flipped: Bool { primarySide == .upstash }

    func run() async throws {
        var config = try configuration()
        var logger = Logger(label: "upshift.shadow")
        logger.logLevel = logLevel
        let (mirrorSide, answering) = try await sides(&config)
        let proxy: ShadowProxy
        do {
            proxy = try await ShadowProxy.start(config, mirror: mirrorSide, answeringFrom: answering, logger: logger)
        } catch {
            await mirrorSide.close()
            await answering?.close()
            throw CLIError("\(error)")
        }
        config = proxy.configuration
        // written unbuffered: scripts and tests wait for this line to learn the port
        FileHandle.standardOutput.write(Data("shadow listening on \(config.host):\(proxy.port)\n".utf8))
        let metricsHost = config.metricsHost ?? "127.0.0.1"
        let summary: ShadowSummary
        do {
            // until SIGINT or SIGTERM; the proxy and /metrics are Services of one group
            summary = try await proxy.serve { port in
                FileHandle.standardOutput.write(Data("metrics on http://\(metricsHost):\(port)/metrics\n".utf8))
            }
        } catch {
            await mirrorSide.close()
            await answering?.close()
            throw CLIError("\(error)")
        }
        await mirrorSide.close()
        await answering?.close()
        let source = flipped ? (mirrorSide.displayName) : config.primary.description
        FileHandle.standardError.write(Data((summary.render(primary: source, flipped: flipped) + "\n").utf8))
        if !summary.held { throw ExitCode(1) }
    }

    /// The side mirrored to, and the side that answers clients through a shared client: Upstash
    /// after the flip, or a Redis Cluster primary (nil: one connection per client to --primary).
    /// A flip to a RESP target swaps the two Redis URLs: the target answers, --primary is mirrored.
    private func sides(_ config: inout ShadowConfiguration) async throws -> (any Backend, PooledPrimary?) {
        // unreachable: ShadowProxy.start says so in its own words
        let cluster = (try? await RedisClusterClient.isCluster(config.primary, options: mirrorOptions)) == true
        guard flipped else {
            let mirror = try mirrorBackend()
            guard cluster else { return (mirror, nil) }
            do {
                return (mirror, .cluster(try await clusterClient(config.primary)))
            } catch {
                await mirror.close()
                throw error
            }
        }
        guard let url = try target.endpoint() else { throw ValidationError("give --target URL (or set UPSTASH_REDIS_REST_URL)") }
        let oldPrimary = config.primary
        let rollback: any Backend =
            cluster ? try await clusterClient(oldPrimary) : RedisClient(url: oldPrimary, connections: 4, options: mirrorOptions)
        if TargetOptions.isRESP(url) {
            config.primary = try target.redisURL(url)
            // the app keeps the old password; the target wants the token: the proxy logs in for it
            config.logsClientsIn = true
            return (rollback, nil)
        }
        var options = UpstashClientOptions()
        // an answered write must not run twice: the app sees the error and decides, as it would with Redis
        options.retry = .never
        return (rollback, .upstash(try target.restClient(url: url, options: options)))
    }

    private func clusterClient(_ seed: RedisURL) async throws -> RedisClusterClient {
        do {
            return try await RedisClusterClient.connect(seed: seed, connections: 4, options: mirrorOptions)
        } catch {
            throw CLIError("--primary is a Redis Cluster that cannot be read: \(error)")
        }
    }

    private var mirrorOptions: RedisConnectionOptions {
        RedisConnectionOptions(connectTimeout: .milliseconds(Int64(mirrorTimeout)), readTimeout: .milliseconds(Int64(mirrorTimeout)))
    }

    private func mirrorBackend() throws -> any Backend {
        guard let url = try target.endpoint() else { throw ValidationError("give --target URL (or set UPSTASH_REDIS_REST_URL)") }
        guard TargetOptions.isRESP(url) else {
            var options = UpstashClientOptions()
            options.requestTimeout = .milliseconds(Int64(mirrorTimeout))
            options.connectTimeout = .milliseconds(Int64(mirrorTimeout))
            // a mirrored write must not run twice: a retried timeout could double an INCR
            options.retry = .never
            return try target.restClient(url: url, options: options)
        }
        // Upstash over RESP (rediss://default:TOKEN@…): the token is the password when the URL has none
        return RedisClient(url: try target.redisURL(url), connections: 4, options: mirrorOptions)
    }

    private func configuration() throws -> ShadowConfiguration {
        let (host, port) = try hostPort(listen, option: "--listen")
        let primaryURL: RedisURL
        do {
            primaryURL = try RedisURL(primary ?? ProcessInfo.processInfo.environment["REDIS_URL"] ?? "redis://127.0.0.1:6379")
        } catch {
            throw ValidationError(error.description)
        }
        let kinds = Set(mirror.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        guard !kinds.isEmpty, kinds.isSubset(of: ["reads", "writes"]) else {
            throw ValidationError("--mirror takes reads, writes or reads,writes")
        }
        guard (0...1).contains(readSample) else { throw ValidationError("--read-sample is between 0 and 1") }
        guard queueLimit > 0, mirrorTimeout > 0, drainTimeout >= 0, maxClients > 0 else {
            throw ValidationError("--queue-limit, --mirror-timeout and --max-clients must be positive")
        }
        var config = ShadowConfiguration(
            host: host, port: port, primary: primaryURL, mode: mode, mirrorWrites: kinds.contains("writes"),
            mirrorReads: kinds.contains("reads"), readSample: readSample, mismatchLogPath: mismatchLog,
            keysOutPath: keysOut ?? mismatchLog.map { $0 + ".keys" }, showValues: showValues, queueLimit: queueLimit,
            ttlToleranceMs: ttlTolerance, drainDeadline: .milliseconds(Int64(drainTimeout * 1000)), maxClients: maxClients)
        config.mirrorTimeout = .milliseconds(Int64(mirrorTimeout))
        config.sharedConnections = !ownPrimaryConnections
        if let threads {
            guard threads > 0 else { throw ValidationError("--threads must be positive") }
            config.threads = threads
        }
        for mapping in dbPrefix {
            guard let (db, prefix) = DatabaseMapping.parse(mapping), !prefix.isEmpty else {
                throw ValidationError("--db-prefix takes N=PREFIX, e.g. 3=db3:")
            }
            config.databases.prefixes[db] = prefix
        }
        guard let request = Self.bytes(maxRequest), request > 0, let buffer = Self.bytes(maxClientBuffer), buffer > 0 else {
            throw ValidationError("--max-request and --max-client-buffer take a size in bytes, e.g. 64m")
        }
        config.maxRequest = request
        config.maxClientBuffer = buffer
        if let metrics {
            let (mh, mp) = try hostPort(metrics, option: "--metrics")
            config.metricsHost = mh
            config.metricsPort = mp
        }
        return config
    }

    /// `1048576`, `64k`, `512m`, `1g`.
    static func bytes(_ text: String) -> Int? {
        let lower = text.lowercased()
        let units: [(String, Int)] = [("k", 1 << 10), ("m", 1 << 20), ("g", 1 << 30)]
        for (suffix, unit) in units where lower.hasSuffix(suffix) {
            return Int(lower.dropLast()).flatMap { $0.multipliedReportingOverflow(by: unit).overflow ? nil : $0 * unit }
        }
        return Int(lower)
    }

    private func hostPort(_ text: String, option: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("\(option) takes host:port, e.g. 127.0.0.1:6380")
        }
        let host = String(text[..<colon])
        return (host.isEmpty ? "127.0.0.1" : host, port)
    }
}
