import HTTPTypes
import Hummingbird
import NIOConcurrencyHelpers
import NIOCore
import RESP
import RedisClient

/// Upstash's server-sent events (upstash/docs redis/features/restapi.mdx): `POST /subscribe/<channel>…`,
/// `/psubscribe/<pattern>…` and `/monitor`, each event a `data: …` line (`subscribe,chat,1`,
/// `message,chat,hello`, `pmessage,pattern,channel,payload`, monitor's `"OK"` then one line per command).
///
/// Each stream holds one Redis connection of its own, closed when the HTTP stream ends either way
/// (the client goes, or Redis does); at most `limit` streams are served at once.
final class EventStreams: Sendable {
    /// Which stream a path asks for.
    enum Kind: String, Sendable {
        case subscribe, psubscribe, monitor
    }

    private let limit: Int
    private let heartbeat: TimeAmount
    private let active = NIOLockedValueBox(0)

    init(limit: Int, heartbeat: TimeAmount = .seconds(15)) {
        self.limit = limit
        self.heartbeat = heartbeat
    }

    /// Streams open now.
    var count: Int { active.withLockedValue { $0 } }

    /// The stream kind and its channel names for an SSE path, nil for any other path.
    static func route(_ path: String) throws(BadRequest) -> (Kind, [[UInt8]])? {
        let segments = path.utf8.split(separator: UInt8(ascii: "/")).map { Array($0) }
        guard let first = segments.first, let kind = Kind(rawValue: String(decoding: lowercased(first), as: UTF8.self)) else {
            return nil
        }
        var names: [[UInt8]] = []
        for s in segments.dropFirst() {
            guard let d = RequestCommands.percentDecode(s) else { throw BadRequest("ERR malformed percent-encoding in path") }
            names.append(d)
        }
        if kind == .monitor ? !names.isEmpty : names.isEmpty {
            throw BadRequest(
                kind == .monitor ? "ERR /monitor takes no arguments" : "ERR \(kind.rawValue) needs a channel: /\(kind.rawValue)/<name>")
        }
        return (kind, names)
    }

    /// The event-stream response; the Redis connection lives as long as the HTTP stream on `channel`.
    func respond(_ kind: Kind, names: [[UInt8]], redis: RedisURL, channel: any Channel, headers: HTTPFields) async throws -> Response {
        let admitted = active.withLockedValue { n -> Bool in
            guard n < limit else { return false }
            n += 1
            return true
        }
        guard admitted else {
            throw BadRequest("ERR too many event streams: the gateway serves at most \(limit) at once (--max-subscribers)", status: 429)
        }
        let connection: PushConnection
        do {
            let command = RESPCommand(arguments: [Array(kind.rawValue.uppercased().utf8)] + names)
            connection = try await PushConnection.open(redis, commands: [command], heartbeat: heartbeat)
        } catch {
            release()
            throw error
        }
        channel.closeFuture.whenComplete { _ in connection.close() }
        var fields = headers
        fields[.contentType] = "text/event-stream"
        fields[.cacheControl] = "no-cache"
        return Response(
            status: .ok, headers: fields,
            body: ResponseBody { [self] writer in
                defer { release() }
                do {
                    var first = true
                    for try await event in connection.events {
                        let line: [UInt8]
                        switch event {
                        case .heartbeat: line = Array(": heartbeat\n\n".utf8)
                        case .value(let value):
                            line = Array("data: ".utf8) + Self.render(value, first: first, kind: kind) + Array("\n\n".utf8)
                            first = false
                        }
                        try await writer.write(ByteBuffer(bytes: line))
                    }
                } catch {
                    // the client went away, or Redis did: either way the stream is over
                }
                connection.close()
                try? await writer.finish(nil)
            })
    }

    private func release() {
        active.withLockedValue { $0 -= 1 }
    }

    /// `message,chat,hello` for a push; monitor's first reply is `"OK"` as Upstash shows it.
    static func render(_ value: RESPValue, first: Bool, kind: Kind) -> [UInt8] {
        switch value {
        case .simpleString(let s):
            return kind == .monitor && first && s == Array("OK".utf8) ? Array("\"OK\"".utf8) : s
        case .array(let items?):
            return Array(items.map(text).joined(separator: [UInt8(ascii: ",")]))
        default:
            return text(value)
        }
    }

    private static func text(_ value: RESPValue) -> [UInt8] {
        switch value {
        case .integer(let i): return Array(String(i).utf8)
        case .bulkString(nil), .array(nil): return []
        case .array(let items?): return Array(items.map(text).joined(separator: [UInt8(ascii: ",")]))
        default: return value.bytes ?? []
        }
    }
}
