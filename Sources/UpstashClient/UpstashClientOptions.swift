/// How an `UpstashClient` paces, retries and times its requests.
public struct UpstashClientOptions: Sendable {
    /// A commands-per-second budget.
    public enum CommandBudget: Sendable, Hashable {
        /// The plan's `commandsPerSecond` for a remote host, unlimited for this machine.
        case planDefault
        /// No pacing at all.
        case unlimited
        /// At most this many commands a second (a pipeline of N counts N).
        case perSecond(Int)
    }

    /// When and how often a failed request is tried again: up to `maxAttempts`, and, with a
    /// `budget`, for as long as the budget lasts (counted from the first attempt).
    public struct RetryPolicy: Sendable, Hashable {
        /// Attempts in all, the first included; 1 means no retry.
        public var maxAttempts: Int
        /// The pause before the first retry; it doubles each time, with jitter.
        public var baseDelay: Duration
        /// The longest pause between attempts.
        public var maxDelay: Duration
        /// How long a request may keep being retried, from its first attempt; nil: no time limit.
        public var budget: Duration?

        public init(
            maxAttempts: Int = 4, baseDelay: Duration = .milliseconds(50), maxDelay: Duration = .seconds(2), budget: Duration? = nil
        ) {
            self.maxAttempts = max(1, maxAttempts)
            self.baseDelay = baseDelay
            self.maxDelay = maxDelay
            self.budget = budget
        }

        /// Retries for as long as `budget` lasts, however many attempts that takes.
        public static func within(
            _ budget: Duration, baseDelay: Duration = .milliseconds(100), maxDelay: Duration = .seconds(5)
        ) -> RetryPolicy {
            RetryPolicy(maxAttempts: .max, baseDelay: baseDelay, maxDelay: maxDelay, budget: budget)
        }

        /// No retries.
        public static let never = RetryPolicy(maxAttempts: 1)
    }

    /// One retry about to happen: which request failed how, and when the next attempt goes.
    public struct RetryNotice: Sendable, CustomStringConvertible {
        /// The failure of the attempt just made (it names the host, never the token).
        public let error: UpstashError
        /// The attempt that failed, counted from 1.
        public let attempt: Int
        /// The pause before the next attempt.
        public let pause: Duration
        /// What is left of the policy's time budget once the pause is over; nil without a budget.
        public let remaining: Duration?

        public init(error: UpstashError, attempt: Int, pause: Duration, remaining: Duration?) {
            self.error = error
            self.attempt = attempt
            self.pause = pause
            self.remaining = remaining
        }

        /// One line for a person: host, reason, and when the next attempt goes.
        public var description: String {
            let left = remaining.map { ", \(Self.format($0)) of the retry budget left" } ?? ""
            return "\(error); attempt \(attempt + 1) in \(Self.format(pause))\(left)"
        }

        static func format(_ d: Duration) -> String {
            let seconds = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
            if seconds < 10 { return "\((seconds * 10).rounded() / 10) s" }
            let whole = Int(seconds.rounded())
            return whole < 120 ? "\(whole) s" : "\(whole / 60) min \(whole % 60) s"
        }
    }

    /// The commands-per-second budget.
    public var commandsPerSecond: CommandBudget
    /// Overrides the plan's largest request body, in bytes (nil: the plan's).
    public var maxRequestBytes: Int?
    /// The longest path-form URL path a request may have, in bytes; longer binary commands are refused.
    public var maxPathBytes: Int
    /// Retries for transport failures (timeouts included) and HTTP 5xx (never for 4xx).
    public var retry: RetryPolicy
    /// Told about every retry before its pause, e.g. to print one line a retry.
    public var onRetry: (@Sendable (RetryNotice) -> Void)?
    /// The deadline of one HTTP exchange, connect included.
    public var requestTimeout: Duration
    /// The deadline for a TCP (and TLS) connection.
    public var connectTimeout: Duration
    /// Connections kept open to the host, and so requests in flight at once.
    public var maxConnections: Int

    public init(
        commandsPerSecond: CommandBudget = .planDefault,
        maxRequestBytes: Int? = nil,
        maxPathBytes: Int = 16 * 1024,
        retry: RetryPolicy = RetryPolicy(),
        onRetry: (@Sendable (RetryNotice) -> Void)? = nil,
        requestTimeout: Duration = .seconds(30),
        connectTimeout: Duration = .seconds(10),
        maxConnections: Int = 16
    ) {
        self.commandsPerSecond = commandsPerSecond
        self.maxRequestBytes = maxRequestBytes
        self.maxPathBytes = maxPathBytes
        self.retry = retry
        self.onRetry = onRetry
        self.requestTimeout = requestTimeout
        self.connectTimeout = connectTimeout
        self.maxConnections = max(1, maxConnections)
    }
}

extension UpstashClientOptions.RetryPolicy {
    /// The pause before attempt `attempt + 1` (attempt counts from 1): exponential, capped, and
    /// "equal jitter" — half fixed, half random — so clients that failed together spread out.
    func delay(after attempt: Int) -> Duration {
        let exponent = min(max(attempt - 1, 0), 30)
        let grown = baseDelay * (1 << exponent)
        let capped = grown > maxDelay ? maxDelay : grown
        let half = capped / 2
        return half + half * Double.random(in: 0...1)
    }

    /// The pause before another attempt once attempt `attempt` failed `elapsed` after the first
    /// began, or nil when the policy gives up. The last pause is cut short to end with the budget,
    /// so a request is tried once more at its end rather than abandoned early.
    func pause(after attempt: Int, elapsed: Duration) -> Duration? {
        guard attempt < maxAttempts else { return nil }
        let pause = delay(after: attempt)
        guard let budget else { return pause }
        let left = budget - elapsed
        guard left > .zero else { return nil }
        return min(pause, left)
    }
}
