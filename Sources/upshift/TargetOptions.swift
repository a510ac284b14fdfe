import ArgumentParser
import Foundation
import RESP
import RedisClient
import UpstashClient
import UpstashProfile

/// `--target` and `--token`, with the environment variables the official SDKs read as fallbacks.
struct TargetOptions: ParsableArguments {
    @Option(
        help: """
            The Upstash REST URL, https://…upstash.io, or a RESP URL: rediss://default:TOKEN@…upstash.io:6379 \
            (Upstash over TLS; TLS settings as ?tls-ca=FILE&… query parameters), redis://… Env: UPSTASH_REDIS_REST_URL.
            """)
    var target: String?

    @Option(help: "The Upstash token (REST, or the password of a RESP target whose URL has none). Env: UPSTASH_REDIS_REST_TOKEN.")
    var token: String?

    /// The target URL, or nil when none is given.
    func endpoint() throws -> String? {
        target ?? ProcessInfo.processInfo.environment["UPSTASH_REDIS_REST_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// True when the target speaks RESP (`redis://`, `rediss://`, `unix://`) rather than REST.
    static func isRESP(_ url: String) -> Bool {
        url.hasPrefix("redis://") || url.hasPrefix("rediss://") || url.hasPrefix("unix://")
    }

    /// A client for the target: a Redis client for redis:// URLs, else an Upstash REST client;
    /// with `retry`, its budget and per-request timeout (a RESP target takes the timeout only).
    func backend(plan: UpstashPlan, maxCommandsPerSecond: Int? = nil, retry: RetryOptions? = nil) throws -> any Backend {
        guard let url = try endpoint() else { throw ValidationError("give --target URL (or set UPSTASH_REDIS_REST_URL)") }
        if Self.isRESP(url) {
            guard let retry else { return RedisClient(url: try redisURL(url), connections: 2) }
            return RedisClient(url: try redisURL(url), connections: 2, options: retry.connectionOptions)
        }
        var options = retry?.clientOptions() ?? UpstashClientOptions()
        if let maxCommandsPerSecond { options.commandsPerSecond = .perSecond(maxCommandsPerSecond) }
        return try restClient(url: url, plan: plan, options: options)
    }

    /// One PING before a long job starts, so a target that cannot work fails now, in words, rather
    /// than after the whole retry budget: nothing listening there, a wrong token or password, a URL
    /// that is some other web server. A slow or failing (5xx) target is left to the job's retries.
    func preflight(retry: RetryOptions) async throws {
        guard let url = try endpoint() else { return }
        if Self.isRESP(url) {
            let redis = try redisURL(url)
            do {
                let connection = try await RedisConnection.connect(to: redis, options: retry.connectionOptions)
                let reply = try? await connection.send(RESPCommand("PING"))
                await connection.close()
                if let reply, RedisClientError.isNoAuth(reply) {
                    throw CLIError(
                        RedisClientError.passwordRequired(endpoint: redis.endpoint, role: "target").description + " (or give --token)")
                }
            } catch let error as RedisClientError {
                throw CLIError(error.description)
            }
            return
        }
        var options = retry.clientOptions()
        options.retry = .init(maxAttempts: 3, baseDelay: .milliseconds(100), maxDelay: .milliseconds(400))
        options.commandsPerSecond = .unlimited
        options.maxConnections = 1
        let client = try restClient(url: url, options: options)
        let failure: UpstashError?
        do {
            // not billed: Upstash does not count PING
            _ = try await client.send(RESPCommand("PING"))
            failure = nil
        } catch {
            failure = error
        }
        await client.close()
        // a target that answers, slowly or badly (5xx), is what the job's retry budget is for
        guard let failure, failure.kind != .transport, failure.kind != .server else { return }
        throw CLIError(failure.description + (failure.kind == .unreachable ? ": nothing answers there; check --target" : ""))
    }

    /// A RESP target's URL; without a password in it, the token is the password of user `default`,
    /// as Upstash's `rediss://default:TOKEN@host:6379` has it.
    func redisURL(_ text: String) throws -> RedisURL {
        var url: RedisURL
        do {
            url = try RedisURL(text)
        } catch {
            throw ValidationError("--target: \(error.description)")
        }
        if url.password == nil, let token = token ?? ProcessInfo.processInfo.environment["UPSTASH_REDIS_REST_TOKEN"], !token.isEmpty {
            url.password = token
            if url.username == nil { url.username = "default" }
        }
        if let tls = url.tls {
            do {
                try tls.validate(endpoint: url.endpoint)
            } catch {
                throw ValidationError("--target: \(error.description)")
            }
        }
        return url
    }

    /// An Upstash REST client for `url` with the token from `--token` or the environment.
    func restClient(url: String, plan: UpstashPlan = .payAsYouGo, options: UpstashClientOptions = .init()) throws -> UpstashClient {
        let (endpoint, token) = try restSettings(url: url)
        do {
            return try UpstashClient(endpoint: endpoint, token: token, plan: plan, options: options)
        } catch {
            throw ValidationError("--target: \(error.detail)")
        }
    }

    /// Checks a REST target's URL and token without connecting (or starting a client).
    func restSettings(url: String) throws -> (UpstashEndpoint, String) {
        guard let token = token ?? ProcessInfo.processInfo.environment["UPSTASH_REDIS_REST_TOKEN"], !token.isEmpty else {
            throw ValidationError("give --token T (or set UPSTASH_REDIS_REST_TOKEN) for the REST target")
        }
        do {
            return (try UpstashEndpoint(url), token)
        } catch {
            throw ValidationError("--target: \(error.detail)")
        }
    }
}
