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

    /// When and how often a failed request is tried again.
    public struct RetryPolicy: Sendable, Hashable {
        /// Attempts in all, the first included; 1 means no retry.
        public var maxAttempts: Int
        /// The pause before the first retry; it doubles each time, with jitter.
        public var baseDelay: Duration
        /// The longest pause between attempts.
        public var maxDelay: Duration

        public init(maxAttempts: Int = 4, baseDelay: Duration = .milliseconds(50), maxDelay: Duration = .seconds(2)) {
            self.maxAttempts = max(1, maxAttempts)
            self.baseDelay = baseDelay
            self.maxDelay = maxDelay
        }

        /// No retries.
        public static let never = RetryPolicy(maxAttempts: 1)
    }

    /// The commands-per-second budget.
    public var commandsPerSecond: CommandBudget
    /// Overrides the plan's largest request body, in bytes (nil: the plan's).
    public var maxRequestBytes: Int?
    /// The longest path-form URL path a request may have, in bytes; longer binary commands are refused.
    public var maxPathBytes: Int
    /// Retries for transport failures and HTTP 5xx (never for 4xx).
    public var retry: RetryPolicy
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
        requestTimeout: Duration = .seconds(30),
        connectTimeout: Duration = .seconds(10),
        maxConnections: Int = 16
    ) {
        self.commandsPerSecond = commandsPerSecond
        self.maxRequestBytes = maxRequestBytes
        self.maxPathBytes = maxPathBytes
        self.retry = retry
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
}
