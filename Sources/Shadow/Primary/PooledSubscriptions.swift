import RESP
import UpstashClient

/// A client's subscriptions on a pooled primary that streams them (Upstash's server-sent events
/// after the flip): which channels and patterns it holds, and the replies Redis would send. Pure:
/// the link opens and closes one stream per name and feeds back what the streams say.
struct PooledSubscriptions: Equatable {
    struct Name: Hashable {
        let kind: EventStreamKind
        let name: [UInt8]
    }

    /// In the order subscribed, as Redis counts and lists them.
    private(set) var names: [Name] = []

    var count: Int { names.count }
    var isEmpty: Bool { names.isEmpty }

    func contains(_ n: Name) -> Bool { names.contains(n) }

    /// The server confirmed `n` (or it was held already): Redis's `subscribe`/`psubscribe` reply.
    mutating func confirmed(_ n: Name, resp3: Bool) -> [UInt8] {
        if !contains(n) { names.append(n) }
        return Self.push([Array(n.kind.rawValue.utf8), n.name], count: count, resp3: resp3)
    }

    /// UNSUBSCRIBE/PUNSUBSCRIBE of `given` (all of that kind when empty): the names to close and the replies.
    mutating func unsubscribe(_ kind: EventStreamKind, _ given: [[UInt8]], resp3: Bool) -> (closing: [Name], reply: [UInt8]) {
        let verb = Array((kind == .subscribe ? "unsubscribe" : "punsubscribe").utf8)
        let targets = given.isEmpty ? names.filter { $0.kind == kind }.map(\.name) : given
        guard !targets.isEmpty else {
            // Redis answers an UNSUBSCRIBE of nothing with a nil name and the count
            return ([], Self.push([verb, nil], count: count, resp3: resp3))
        }
        var closing: [Name] = []
        var reply: [UInt8] = []
        for t in targets {
            let n = Name(kind: kind, name: t)
            if let i = names.firstIndex(of: n) {
                names.remove(at: i)
                closing.append(n)
            }
            reply += Self.push([verb, t], count: count, resp3: resp3)
        }
        return (closing, reply)
    }

    /// Every name, dropped (RESET).
    mutating func removeAll() -> [Name] {
        defer { names = [] }
        return names
    }

    /// What a subscribed client receives for a message on stream `n`.
    static func message(_ n: Name, channel: [UInt8], payload: [UInt8], resp3: Bool) -> [UInt8] {
        let head: [RESPValue] =
            n.kind == .subscribe ? [.bulkString(Array("message".utf8))] : [.bulkString(Array("pmessage".utf8)), .bulkString(n.name)]
        return push(head + [.bulkString(channel), .bulkString(payload)], resp3: resp3)
    }

    /// PING while subscribed: Redis answers RESP2 clients `["pong", message]`.
    static func ping(_ argv: [[UInt8]], resp3: Bool) -> [UInt8] {
        if resp3 { return RESPSerializer.encode(argv.count > 1 ? .bulkString(argv[1]) : .simpleString(Array("PONG".utf8))) }
        return RESPSerializer.encode(.array([.bulkString(Array("pong".utf8)), .bulkString(argv.count > 1 ? argv[1] : [])]))
    }

    /// The commands a subscribed client may send (Redis's rule for RESP2).
    static func allowedWhileSubscribed(_ name: String) -> Bool {
        ["SUBSCRIBE", "PSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "PING", "QUIT", "RESET"].contains(name)
    }

    private static func push(_ items: [[UInt8]?], count: Int, resp3: Bool) -> [UInt8] {
        push(items.map { RESPValue.bulkString($0) } + [.integer(Int64(count))], resp3: resp3)
    }

    /// An array, sent to a RESP3 client as a push (`>`): the same bytes but the first.
    private static func push(_ items: [RESPValue], resp3: Bool) -> [UInt8] {
        var out = RESPSerializer.encode(.array(items))
        if resp3 { out[0] = UInt8(ascii: ">") }
        return out
    }
}
