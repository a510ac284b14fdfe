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
        var out: [UInt8] = []
        let head = resp3 ? ">" : "*"
        switch n.kind {
        case .subscribe:
            out += Array("\(head)3\r\n".utf8)
            bulk(Array("message".utf8), &out)
        case .psubscribe:
            out += Array("\(head)4\r\n".utf8)
            bulk(Array("pmessage".utf8), &out)
            bulk(n.name, &out)
        }
        bulk(channel, &out)
        bulk(payload, &out)
        return out
    }

    /// PING while subscribed: Redis answers RESP2 clients `["pong", message]`.
    static func ping(_ argv: [[UInt8]], resp3: Bool) -> [UInt8] {
        let message = argv.count > 1 ? argv[1] : []
        if resp3 { return RESPSerializer.encode(argv.count > 1 ? .bulkString(message) : .simpleString(Array("PONG".utf8))) }
        var out = Array("*2\r\n".utf8)
        bulk(Array("pong".utf8), &out)
        bulk(message, &out)
        return out
    }

    /// The commands a subscribed client may send (Redis's rule for RESP2).
    static func allowedWhileSubscribed(_ name: String) -> Bool {
        ["SUBSCRIBE", "PSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "PING", "QUIT", "RESET"].contains(name)
    }

    private static func push(_ items: [[UInt8]?], count: Int, resp3: Bool) -> [UInt8] {
        var out = Array("\(resp3 ? ">" : "*")\(items.count + 1)\r\n".utf8)
        for item in items {
            if let item { bulk(item, &out) } else { out += Array("$-1\r\n".utf8) }
        }
        out += Array(":\(count)\r\n".utf8)
        return out
    }

    private static func bulk(_ b: [UInt8], _ out: inout [UInt8]) {
        out += Array("$\(b.count)\r\n".utf8)
        out += b
        out += [13, 10]
    }
}
