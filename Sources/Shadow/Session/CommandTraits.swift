import RESP
import RedisClient
import UpstashProfile

/// What the proxy needs to know about one command to route, mirror and compare it.
struct CommandTraits: Sendable, Equatable {
    /// Commands whose handling is more than "forward, maybe mirror".
    enum Special: Sendable, Equatable {
        case none
        case multi
        case exec
        case discard
        case select
        case subscribe
        case hello
        case auth
        case reset
        /// SYNC, PSYNC: the connection becomes a replication stream.
        case replication
        case eval
        case evalsha
        case scriptLoad
        case scriptFlush
    }

    /// Whether a command means the same on a primary connection shared with other clients as on
    /// a client's own (`SharedPrimary`), read from the server's `COMMAND` flags.
    enum Sharing: Sendable, Equatable {
        /// Its meaning does not depend on which connection carries it.
        case anywhere
        /// It changes or reads the connection's state, blocks or waits on it, or must run while the
        /// server is busy: the client needs a connection of its own, for good.
        case ownConnection
        /// AUTH: the shared connection logged in the same way, when it holds.
        case login
        /// SELECT: shared while it names the database the client is already in.
        case select
        /// QUIT: the proxy answers it and closes, as redis-server does.
        case quit
    }

    var special: Special = .none
    /// May change data: mirrored as a write.
    var mayWrite = true
    /// Its reply may legitimately differ between two servers holding the same data.
    var nondeterministic = false
    /// Only the order of its reply's elements may differ (SMEMBERS, HGETALL…).
    var orderInsensitive = false
    /// Its reply is a flat list of field/value pairs (compare pairs, not elements).
    var pairs = false
    /// TTL-like reply and its unit in milliseconds (1000 for TTL, 1 for PTTL), nil otherwise.
    var ttlUnitMs: Int64?
    /// Why Upstash refuses it over REST, when that does not depend on the arguments.
    var refusal: UpstashCompatibility.Refusal?
    /// The refusal depends on the arguments (SELECT n, XREAD BLOCK): ask per command.
    var refusalDependsOnArguments = false
    /// Worth sending to the mirror at all (server introspection such as INFO or COMMAND is not).
    var mirrorable = true
    /// Its reply says something about the two sides' data (PUBLISH counts subscribers, which differ by design).
    var comparable = true
    /// A script or function (EVAL*, FCALL*): its reply may carry text of the client's.
    var isScript = false
    /// EVAL/EVALSHA: a write unless its script declares `#!lua flags=no-writes` (asked per command).
    var writeDependsOnScript = false
    /// A blocking pop: mirrored as the non-blocking pop of what the primary returned (`MirrorEffect`).
    var blockingPop = false
    /// Not in the primary's command table: the primary refuses it, nothing ran.
    var unknown = false
    /// Whether a client may send it over a primary connection shared with other clients.
    var sharing = Sharing.ownConnection
    /// The upper-case name, for counts and records.
    var name: String = ""
    /// What the mirror runs for it (`MirrorEffect.of`).
    var effect = MirrorEffect.Rule.same
}
