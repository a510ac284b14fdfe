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

    public init(
        host: String = "127.0.0.1", port: Int = 8079, redis: RedisURL, token: String, readOnlyToken: String? = nil,
        plan: UpstashPlan = .payAsYouGo, compatibility: Compatibility = .strict, redisConnections: Int = 4
    ) {
        self.host = host
        self.port = port
        self.redis = redis
        self.token = token
        self.readOnlyToken = readOnlyToken
        self.plan = plan
        self.compatibility = compatibility
        self.redisConnections = redisConnections
    }
}
