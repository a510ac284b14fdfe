import ArgumentParser
import Foundation
import RedisClient

/// `--source`, with `REDIS_URL` as the fallback.
struct SourceOptions: ParsableArguments {
    @Option(name: .long, help: "The Redis to read: redis://[user:pass@]host:port[/db], rediss://…, unix:///path. Env: REDIS_URL.")
    var source: String?

    /// The parsed URL, or nil when neither the flag nor the environment names one.
    func url() throws -> RedisURL? {
        guard let text = source ?? ProcessInfo.processInfo.environment["REDIS_URL"] else { return nil }
        do {
            return try RedisURL(text)
        } catch {
            throw ValidationError(error.description)
        }
    }
}
