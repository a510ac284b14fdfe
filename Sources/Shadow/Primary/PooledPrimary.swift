import NIOCore
import RESP
import UpstashClient
import UpstashProfile

/// A side that answers the proxy's clients through a shared client instead of one connection per
/// client: Upstash over REST (the flip), or a Redis Cluster through a cluster-aware client that
/// sends each command to the master owning its slot. It keeps no per-connection state, so the
/// proxy answers for that (`PooledConnectionState`) and refuses what would need a connection of its own.
public struct PooledPrimary: Sendable {
    enum Kind: Sendable {
        case upstash(UpstashClient)
        case cluster(any Backend)
    }

    let kind: Kind

    /// Upstash answers clients over REST, with exact RESP2 replies: the flip.
    public static func upstash(_ client: UpstashClient) -> PooledPrimary { PooledPrimary(kind: .upstash(client)) }

    /// A Redis Cluster answers clients through `client` (a `RedisClusterClient`), which routes each
    /// command by its keys' slot and follows MOVED and ASK.
    public static func cluster(_ client: any Backend) -> PooledPrimary { PooledPrimary(kind: .cluster(client)) }

    /// Where it points, without secrets.
    public var displayName: String {
        switch kind {
        case .upstash(let client): return client.displayName
        case .cluster(let client): return client.displayName
        }
    }

    /// Releases its client's connections.
    public func close() async {
        switch kind {
        case .upstash(let client): await client.close()
        case .cluster(let client): await client.close()
        }
    }

    /// True when it serves SUBSCRIBE and PSUBSCRIBE as streams of their own (Upstash's server-sent events).
    var streamsPubSub: Bool {
        if case .upstash = kind { return true }
        return false
    }

    /// The subscription stream of one channel or pattern; nil for a side that has none.
    func events(_ n: PooledSubscriptions.Name) -> AsyncThrowingStream<PubSubEvent, any Error>? {
        guard case .upstash(let client) = kind else { return nil }
        return client.events(n.kind, n.name)
    }

    /// The error text the proxy answers `argv` with instead of sending it, or nil to send it.
    func refusal(_ argv: [[UInt8]]) -> String? {
        switch kind {
        case .upstash:
            return Self.upstashRefusal(argv)
        case .cluster:
            let name = UpstashCompatibility.commandName(argv)
            // The shared connections serve every client: a blocked or subscribed one would stall them all.
            switch UpstashCompatibility.refusal(for: argv) {
            case .blocking?, .pubsubOverREST?, .transactionControl?:
                return "ERR upshift: \(name) needs a connection of its own, which the proxy does not keep to a Redis Cluster"
            default:
                return nil
            }
        }
    }

    /// What Upstash does not serve over REST, with why.
    static func upstashRefusal(_ argv: [[UInt8]]) -> String? {
        UpstashCompatibility.refusal(for: argv).map {
            "ERR upshift: \(UpstashCompatibility.commandName(argv)) is not served by Upstash over REST (\($0))"
        }
    }

    /// One RESP2 reply per command, in order; an error reply for each when the side could not answer.
    func replies(to commands: [RESPCommand]) async -> [UInt8] {
        switch kind {
        case .upstash(let client):
            return await Self.replies(to: commands, from: client)
        case .cluster(let client):
            do {
                var out: [UInt8] = []
                for reply in try await client.send(batch: commands) { RESPSerializer.write(reply, into: &out) }
                return out
            } catch {
                return Self.errors(commands.count, "the cluster did not answer: \(error)")
            }
        }
    }

    /// EXEC's reply for the queued commands, run as one transaction.
    func transaction(_ commands: [RESPCommand]) async -> [UInt8] {
        do {
            switch kind {
            // JSON (`/multi-exec`) does not tell a status reply from a string: `OK` comes back as a bulk string.
            case .upstash(let client): return RESPSerializer.encode(try await client.transaction(commands))
            case .cluster(let client): return RESPSerializer.encode(try await client.transaction(commands))
            }
        } catch let error as UpstashError {
            return Self.errors(1, "Upstash did not answer: \(error.detail)")
        } catch {
            return Self.errors(1, "the cluster did not answer: \(error)")
        }
    }

    private static func replies(to commands: [RESPCommand], from client: UpstashClient) async -> [UInt8] {
        do {
            let bytes = try await client.rawRESP2(batch: commands)
            let count = countReplies(bytes)
            guard count == commands.count else {
                let got = count.map(String.init) ?? "unreadable"
                return errors(commands.count, "Upstash did not answer: it sent \(got) replies to \(commands.count) commands")
            }
            return bytes
        } catch let error where error.status == nil && (error.kind == .limit || error.kind == .unencodable) && commands.count > 1 {
            // Refused while planning, before anything was sent: one command's size must not fail its neighbours.
            var out: [UInt8] = []
            for command in commands { out += await replies(to: [command], from: client) }
            return out
        } catch {
            return errors(commands.count, "Upstash did not answer: \(error.detail)")
        }
    }

    private static func countReplies(_ bytes: [UInt8]) -> Int? {
        var scanner = RESPFrameScanner(limits: .relay)
        var n = 0
        var at = 0
        do {
            while let frame = try bytes.withUnsafeBytes({ raw throws(RESPParseError) in try scanner.next(raw, from: at) }) {
                n += 1
                at = frame.end
            }
        } catch {
            return nil
        }
        return n
    }

    /// `count` error replies saying `why` (one line, no secrets).
    static func errors(_ count: Int, _ why: String) -> [UInt8] {
        let line = Array("ERR upshift: \(why)".utf8.map { $0 == 13 || $0 == 10 ? 32 : $0 })
        var out: [UInt8] = []
        for _ in 0..<count { RESPSerializer.write(.error(line), into: &out) }
        return out
    }
}
