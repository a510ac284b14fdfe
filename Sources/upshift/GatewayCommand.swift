import ArgumentParser
import Foundation
import Gateway
import Logging
import RedisClient
import UpstashProfile

/// `upshift gateway`: a local Upstash-compatible REST endpoint in front of any redis-server.
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Serve the Upstash REST API in front of a redis-server, for offline work, tests and CI."
    )

    @Option(help: "Address to listen on, host:port (port 0 picks a free one).")
    var listen: String = "127.0.0.1:8079"

    @Option(help: "The redis-server to serve. Env: REDIS_URL.")
    var redis: String?

    @Option(help: "The token clients must present. Env: UPSTASH_REDIS_REST_TOKEN.")
    var token: String?

    @Option(name: .customLong("readonly-token"), help: "A second token that may run read commands only.")
    var readOnlyToken: String?

    @Option(help: "The Upstash plan whose limits to enforce.")
    var plan: UpstashPlan = .payAsYouGo

    @Option(help: "strict refuses what Upstash refuses; lenient passes through what Redis takes.")
    var compat: Compatibility = .strict

    @Option(name: .customLong("log-level"), help: "How much to log.")
    var logLevel: Logger.Level = .info

    @Option(help: "The largest request body in bytes (default: the plan's; Upstash sells larger as an add-on).")
    var maxRequestSize: Int?

    @Option(help: "The largest stored record in bytes (default: the plan's; Upstash sells larger as an add-on).")
    var maxRecordSize: Int?

    @Option(help: "Seconds a connection may sit with no request in flight before it is closed (0: never).")
    var idleTimeout: Double = 60

    @Option(help: "Seconds a request's head (request line and headers) may take to arrive after its first byte (0: no limit).")
    var headerTimeout: Double = 10

    @Option(help: "Server-sent event streams (/subscribe, /psubscribe, /monitor) served at once; each holds one Redis connection.")
    var maxSubscribers: Int = 256

    @Flag(name: .customLong("no-fast-path"), help: "Send every request through the async responder (to compare with the event-loop path).")
    var noFastPath = false

    func validate() throws {
        _ = try configuration()
    }

    func run() async throws {
        let config = try configuration()
        var logger = Logger(label: "upshift.gateway")
        logger.logLevel = logLevel
        try await GatewayServer.run(config, logger: logger) { port in
            // written unbuffered: scripts and tests wait for this line to learn the port
            let line =
                "gateway listening on http://\(config.host):\(port) for \(config.redis) (plan \(config.plan.id), \(config.compatibility.rawValue))\n"
            FileHandle.standardOutput.write(Data(line.utf8))
        }
    }

    private func configuration() throws -> GatewayConfiguration {
        let env = ProcessInfo.processInfo.environment
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port)
        else {
            throw ValidationError("--listen takes host:port, e.g. 127.0.0.1:8079")
        }
        let host = String(listen[..<colon])
        let redisURL: RedisURL
        do {
            redisURL = try RedisURL(redis ?? env["REDIS_URL"] ?? "redis://127.0.0.1:6379")
        } catch {
            throw ValidationError(error.description)
        }
        guard let token = token ?? env["UPSTASH_REDIS_REST_TOKEN"], !token.isEmpty else {
            throw ValidationError("give --token T (or set UPSTASH_REDIS_REST_TOKEN): clients must present it")
        }
        for (flag, value) in [("--max-request-size", maxRequestSize), ("--max-record-size", maxRecordSize)] {
            if let value, value <= 0 { throw ValidationError("\(flag) takes a positive number of bytes") }
        }
        guard idleTimeout >= 0, headerTimeout >= 0 else { throw ValidationError("timeouts are seconds, 0 or more") }
        guard maxSubscribers >= 0 else { throw ValidationError("--max-subscribers takes a number, 0 or more") }
        let seconds = { (s: Double) -> Duration? in s == 0 ? nil : .milliseconds(Int64(s * 1000)) }
        var configuration = GatewayConfiguration(
            host: host.isEmpty ? "127.0.0.1" : host, port: port, redis: redisURL, token: token, readOnlyToken: readOnlyToken,
            plan: plan, compatibility: compat, maxRequestBytes: maxRequestSize, maxRecordBytes: maxRecordSize,
            idleTimeout: seconds(idleTimeout), headerTimeout: seconds(headerTimeout), maxSubscribers: maxSubscribers)
        configuration.fastPath = !noFastPath
        return configuration
    }
}
