import RESP
import RedisClient

@testable import Shadow

/// A command table as redis-server 7.0 describes these commands (`COMMAND INFO`: name, arity,
/// flags, first key, last key, step), served by a stand-in backend so the state machine's unit
/// tests need no server. The integration suites read the real table from a real server.
struct CommandTableFixture: Backend {
    static let entries: [(String, Int, [String], Int, Int, Int)] = [
        ("get", 2, ["readonly", "fast"], 1, 1, 1), ("set", -3, ["write", "denyoom"], 1, 1, 1),
        ("incr", 2, ["write", "denyoom", "fast"], 1, 1, 1), ("lpush", -3, ["write", "denyoom", "fast"], 1, 1, 1),
        ("blpop", -3, ["write", "noscript", "blocking"], 1, -2, 1),
        ("brpoplpush", 4, ["write", "denyoom", "noscript", "blocking"], 1, 2, 1),
        ("bzpopmin", -3, ["write", "noscript", "blocking", "fast"], 1, -2, 1), ("spop", -2, ["write", "fast"], 1, 1, 1),
        ("expire", -3, ["write", "fast"], 1, 1, 1), ("setex", 4, ["write", "denyoom"], 1, 1, 1),
        ("eval", -3, ["noscript", "stale", "skip_monitor", "no_mandatory_keys", "movablekeys"], 0, 0, 0),
        ("evalsha", -3, ["noscript", "stale", "skip_monitor", "no_mandatory_keys", "movablekeys"], 0, 0, 0),
        ("eval_ro", -3, ["readonly", "noscript", "stale", "skip_monitor", "no_mandatory_keys", "movablekeys"], 0, 0, 0),
        ("select", 2, ["loading", "stale", "fast"], 0, 0, 0), ("auth", -2, ["noscript", "loading", "stale", "fast", "no_auth"], 0, 0, 0),
        ("hello", -1, ["noscript", "loading", "stale", "fast", "no_auth"], 0, 0, 0), ("ping", -1, ["fast"], 0, 0, 0),
        ("multi", 1, ["noscript", "loading", "stale", "fast"], 0, 0, 0),
        ("exec", 1, ["noscript", "loading", "stale", "skip_slowlog"], 0, 0, 0),
        ("subscribe", -2, ["pubsub", "noscript", "loading", "stale"], 0, 0, 0),
        ("sync", 1, ["admin", "noscript", "no_async_loading"], 0, 0, 0),
        ("psync", -3, ["admin", "noscript", "no_async_loading"], 0, 0, 0),
        ("quit", -1, ["noscript", "loading", "stale", "fast", "no_auth"], 0, 0, 0),
        ("xreadgroup", -7, ["write", "blocking", "movablekeys"], 0, 0, 0), ("mget", -2, ["readonly", "fast"], 1, -1, 1),
    ]

    var displayName: String { "fixture" }

    func send(batch commands: [RESPCommand]) async throws -> [RESPValue] {
        commands.map { c in
            if c.arguments.count == 2 { return .array(Self.entries.map { .bulk($0.0) }) }
            return .array(
                Self.entries.map { e in
                    .array([
                        .bulk(e.0), .integer(Int64(e.1)), .array(e.2.map { .simpleString(Array($0.utf8)) }), .integer(Int64(e.3)),
                        .integer(Int64(e.4)), .integer(Int64(e.5)), .array([]), .array([]),
                    ])
                })
        }
    }

    func close() async {}

    /// The table, read through the same code as a real server's.
    static func table() async throws -> CommandTable {
        try await CommandTable.load(from: CommandTableFixture())
    }

    /// A state machine over the fixture table.
    static func machine(_ policy: ClientSessionState.Policy = .init()) async throws -> ClientSessionState {
        var m = ClientSessionState(
            policy: policy, classifier: CommandClassifier(table: try await table()), scripts: ScriptRegistry(), seed: 7)
        _ = m.primaryConnected()
        return m
    }
}
