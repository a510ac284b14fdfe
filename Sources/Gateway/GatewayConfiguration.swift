import RedisClient
import UpstashProfile

/// How strictly the gateway imitates Upstash.
public enum Compatibility: String, Sendable, CaseIterable {
    /// Refuse what Upstash refuses, so a check that passes here predicts the cloud.
    case strict
    /// Pass through what Redis takes, except what would break a shared connection.
    case lenient
}

/// Everything `upshift gateway` needs to serve.
public struct GatewayConfiguration: Sendable {
    public var host: String
    /// 0 picks a free port; the bound one is reported when the server runs.
    public var port: Int
    public var redis: RedisURL
    public var token: String
    public var readOnlyToken: String?
    public var plan: UpstashPlan
    public var compatibility: Compatibility
    /// Pipelined connections to Redis shared by all requests.
    public var redisConnections: Int
    /// The largest request body, in bytes; nil for the plan's (a paid add-on raises it on Upstash).
    public var maxRequestBytes: Int?
    /// The largest stored record, in bytes; nil for the plan's (a paid add-on raises it on Upstash).
    public var maxRecordBytes: Int?
    /// A connection with no request in flight for this long is closed; nil never closes it.
    public var idleTimeout: Duration?
    /// A request's head (request line and headers) must arrive within this time of its first byte.
    public var headerTimeout: Duration?
    /// Server-sent event streams (/subscribe, /psubscribe, /monitor) served at once, each holding one Redis connection.
    public var maxSubscribers: Int

    /// Plain commands are served on the connection's event loop (`FastPath`); false sends every request
    /// through the async responder, for comparison.
    public var fastPath = true

    /// The request size limit in force.
    public var requestLimit: Int { maxRequestBytes ?? plan.maxRequestBytes }

    public init(
        host: String = "127.0.0.1", port: Int = 8079, redis: RedisURL, token: String, readOnlyToken: String? = nil,
        plan: UpstashPlan = .payAsYouGo, compatibility: Compatibility = .strict, redisConnections: Int = 4,
        maxRequestBytes: Int? = nil, maxRecordBytes: Int? = nil, idleTimeout: Duration? = .seconds(60),
        headerTimeout: Duration? = .seconds(10), maxSubscribers: Int = 256
    ) {
        self.host = host
        self.port = port
        self.redis = redis
        self.token = token
        self.readOnlyToken = readOnlyToken
        self.plan = plan
        self.compatibility = compatibility
        self.redisConnections = redisConnections
        self.maxRequestBytes = maxRequestBytes
        self.maxRecordBytes = maxRecordBytes
        self.idleTimeout = idleTimeout
        self.headerTimeout = headerTimeout
        self.maxSubscribers = maxSubscribers
    }
}
