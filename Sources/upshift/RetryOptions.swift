import ArgumentParser
import Foundation
import RedisClient
import UpstashClient

/// `--retry-for` and `--timeout`: how patiently a long job talks to its target.
struct RetryOptions: ParsableArguments {
    @Option(
        name: .customLong("retry-for"),
        help: """
            Keep retrying a failed request to the target (no answer within --timeout, a dropped connection, HTTP 5xx) \
            for this long, with backoff, e.g. 5m, 30s; each retry is reported on stderr. 0 never retries.
            """)
    var retryFor: DurationArgument = "5m"

    @Option(help: "The longest one request to the target may take (connect included), e.g. 15s or 500ms; then it is retried.")
    var timeout: DurationArgument = "15s"

    func validate() throws {
        if timeout.duration <= .zero { throw ValidationError("--timeout must be more than 0, e.g. 15s") }
    }

    /// REST client options with this retry budget and timeout; each retry is written to stderr as one line.
    func clientOptions(_ base: UpstashClientOptions = .init()) -> UpstashClientOptions {
        var options = base
        options.retry = retryFor.duration > .zero ? .within(retryFor.duration) : .never
        options.requestTimeout = timeout.duration
        options.connectTimeout = min(options.connectTimeout, timeout.duration)
        options.onRetry = { notice in
            FileHandle.standardError.write(Data("upshift: retrying: \(notice)\n".utf8))
        }
        return options
    }

    /// A RESP target's connection options: a reply later than --timeout fails the request.
    var connectionOptions: RedisConnectionOptions {
        let ms = Int64(timeout.seconds * 1000)
        return RedisConnectionOptions(connectTimeout: .milliseconds(min(ms, 5000)), readTimeout: .milliseconds(ms))
    }
}
