import ArgumentParser
import Foundation
import RESP
import RedisClient
import UpstashClient

/// `upshift ping`: can we reach the source and the target, and how fast.
struct Ping: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "PING the source Redis and/or the Upstash target, and print the reply and round-trip time."
    )

    @OptionGroup var source: SourceOptions
    @OptionGroup var target: TargetOptions

    @Option(help: "Seconds to wait for the connection and the reply.")
    var timeout: Double = 5

    func validate() throws {
        let sourceURL = try source.url()
        let targetURL = try target.endpoint()
        if sourceURL == nil && targetURL == nil {
            throw ValidationError("give --source URL (or set REDIS_URL) and/or --target URL (or set UPSTASH_REDIS_REST_URL)")
        }
        if let targetURL {
            if TargetOptions.isRESP(targetURL) { _ = try target.redisURL(targetURL) } else { _ = try target.restSettings(url: targetURL) }
        }
    }

    func run() async throws {
        if let url = try source.url() {
            try await ping(url, role: "source")
        }
        if let text = try target.endpoint() {
            if TargetOptions.isRESP(text) {
                do {
                    try await ping(try target.redisURL(text), role: "target")
                } catch let error as RedisClientError {
                    throw CLIError(error.description)
                }
            } else {
                try await pingREST(text)
            }
        }
    }

    private func ping(_ url: RedisURL, role: String) async throws {
        let options = RedisConnectionOptions(
            connectTimeout: .milliseconds(Int64(timeout * 1000)), readTimeout: .milliseconds(Int64(timeout * 1000)))
        let connection = try await RedisConnection.connect(to: url, options: options)
        defer { Task { await connection.close() } }
        let start = ContinuousClock.now
        let pong = try await connection.send(RESPCommand("PING"))
        let rtt = ContinuousClock.now - start
        guard !pong.isError else { throw CLIError("\(url.endpoint): PING failed: \(pong)") }
        let info = try await connection.send(RESPCommand("INFO", "server"))
        let version = info.text.flatMap { RedisInfo.field("redis_version", in: $0) } ?? "unknown"
        print("\(role) \(url): PONG, redis \(version), round trip \(formatMilliseconds(rtt))")
    }

    private func pingREST(_ url: String) async throws {
        let limit = Duration.milliseconds(Int64(timeout * 1000))
        let options = UpstashClientOptions(
            commandsPerSecond: .unlimited, retry: .never, requestTimeout: limit, connectTimeout: limit, maxConnections: 1)
        let client = try target.restClient(url: url, options: options)
        defer { Task { await client.close() } }
        do {
            let start = ContinuousClock.now
            let pong = try await client.send(RESPCommand("PING"))
            let rtt = ContinuousClock.now - start
            guard !pong.isError else { throw CLIError("\(client.endpoint.hostAndPort): PING failed: \(pong)") }
            print("target \(client.displayName): \(pong.text ?? "\(pong)"), round trip \(formatMilliseconds(rtt))")
        } catch let error as UpstashError {
            throw CLIError(error.description)
        }
    }
}

/// A job failure with a one-line message; exits non-zero.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func formatMilliseconds(_ d: Duration) -> String {
    let ms = Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    return String(format: "%.2f ms", ms)
}
