import ArgumentParser
import Foundation
import RESP
import RedisClient
import UpstashProfile

/// `--target` and `--token`, with the environment variables the official SDKs read as fallbacks.
struct TargetOptions: ParsableArguments {
    @Option(help: "The Upstash REST URL (or a redis:// URL). Env: UPSTASH_REDIS_REST_URL.")
    var target: String?

    @Option(help: "The Upstash REST token. Env: UPSTASH_REDIS_REST_TOKEN.")
    var token: String?

    /// The target URL, or nil when none is given.
    func endpoint() throws -> String? {
        target ?? ProcessInfo.processInfo.environment["UPSTASH_REDIS_REST_URL"]
    }

    /// A client for the target: a Redis client for redis:// URLs.
    func backend(plan: UpstashPlan, maxCommandsPerSecond: Int? = nil) throws -> any Backend {
        guard let url = try endpoint() else { throw ValidationError("give --target URL (or set UPSTASH_REDIS_REST_URL)") }
        if url.hasPrefix("redis://") || url.hasPrefix("rediss://") || url.hasPrefix("unix://") {
            do {
                return RedisClient(url: try RedisURL(url), connections: 2)
            } catch {
                throw ValidationError(error.description)
            }
        }
        throw CLIError("REST targets arrive with the Upstash client")
    }
}
