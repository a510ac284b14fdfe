import ArgumentParser
import Foundation
import RESP
import RedisClient

/// `upshift ping`: can we reach the source (and the target), and how fast.
struct Ping: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Connect to the source Redis, PING it, and print its version and round-trip time."
    )

    @OptionGroup var source: SourceOptions

    @Option(help: "Seconds to wait for the connection and the reply.")
    var timeout: Double = 5

    func validate() throws {
        if try source.url() == nil { throw ValidationError("give --source URL (or set REDIS_URL)") }
    }

    func run() async throws {
        guard let url = try source.url() else { return }
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
        print("source \(url): PONG, redis \(version), round trip \(formatMilliseconds(rtt))")
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
