/// Where Upstash answers differently from Redis 7 and the official SDK's own tests pin Upstash's
/// answer: a strict gateway answers as Upstash does. Each rule names the test that pins it.
public enum UpstashAnswer: String, Sendable, CaseIterable, CustomStringConvertible {
    /// `XINFO CONSUMERS key group` for a group that does not exist: `[]`, where Redis answers NOGROUP.
    case xinfoConsumersOfMissingGroupIsEmpty
    /// `ZRANGESTORE dst src start stop LIMIT offset count` by rank (without BYSCORE/BYLEX) is accepted:
    /// the rank range is taken, then LIMIT applies within it. Redis 7 answers a syntax error.
    case zrangestoreLimitByRank
    /// `XTRIM key MAXLEN ~ n` (and `MINID ~`) without LIMIT trims exactly, as `=` does; Redis trims to whole nodes.
    case xtrimApproximateIsExact
    /// An unknown command in the path form (`/nosuchcommand/x`) is a 400 like every command error, not a 404.
    case unknownPathCommandIs400

    /// The test or page that pins the answer.
    public var source: String {
        switch self {
        case .xinfoConsumersOfMissingGroupIsEmpty:
            return "upstash/redis-py tests/commands/stream/test_xinfo.py::test_xinfo_nonexistent_group"
        case .zrangestoreLimitByRank:
            return "upstash/redis-py tests/commands/sortedSet/test_zrangestore.py::test_zrangestore_limit"
        case .xtrimApproximateIsExact:
            return
                "upstash/redis-js pkg/commands/xtrim.test.ts (MAXLEN ~ 300 of 10,000 leaves 290–310); with LIMIT it stays approximate (upstash/redis-py tests/commands/stream/test_xtrim.py::test_xtrim_with_limit)"
        case .unknownPathCommandIs400:
            return "upstash/docs redis/features/restapi.mdx, HTTP Codes (400 for an invalid/unsupported command)"
        }
    }

    public var description: String { rawValue }
}
