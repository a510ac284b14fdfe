import NIOConcurrencyHelpers

/// What a subscription stream of Upstash's REST API listens to: `POST /subscribe/<channel>` or
/// `POST /psubscribe/<pattern>`, answered with server-sent events.
public enum EventStreamKind: String, Sendable {
    case subscribe, psubscribe
}

/// One event of a subscription stream.
public enum PubSubEvent: Sendable, Equatable {
    /// The server confirmed the subscription: from now on nothing published is missed.
    case subscribed
    /// A message published to `channel` (for a pattern stream, the channel that matched).
    case message(channel: [UInt8], payload: [UInt8])
}

/// Reads a subscription stream's server-sent events: `data: subscribe,chat,1`, `data: message,chat,hello`,
/// `data: pmessage,ch*,chat,hello`, each ended by a blank line; `:` lines (heartbeats) are comments.
/// Bytes in, events out: no I/O, so it is tested alone.
///
/// Upstash separates the fields with commas and does not escape them; the stream is for one channel
/// (or pattern) whose name the reader knows, so a comma in a channel name or a payload cannot
/// misplace the payload. A pattern's matching channel is read up to the next comma.
public struct EventStreamParser: Sendable {
    let kind: EventStreamKind
    let name: [UInt8]
    private var line: [UInt8] = []
    private var data: [UInt8]?
    /// The most bytes one event may take: a longer one is a broken stream, not an event to keep growing.
    let maxEventBytes: Int

    public init(kind: EventStreamKind, name: [UInt8], maxEventBytes: Int = 64 * 1024 * 1024) {
        self.kind = kind
        self.name = name
        self.maxEventBytes = maxEventBytes
    }

    /// Thrown when one event grows past `maxEventBytes`.
    public struct Oversized: Error, Sendable {}

    /// The events completed by `bytes`.
    public mutating func feed(_ bytes: [UInt8]) throws(Oversized) -> [PubSubEvent] {
        var out: [PubSubEvent] = []
        for b in bytes {
            guard b == UInt8(ascii: "\n") else {
                line.append(b)
                if line.count + (data?.count ?? 0) > maxEventBytes { throw Oversized() }
                continue
            }
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            if line.isEmpty {
                if let d = data, let event = event(d) { out.append(event) }
                data = nil
            } else if line.starts(with: Self.dataField) {
                var value = line.dropFirst(Self.dataField.count)
                if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
                // several data lines of one event join with a newline, as the SSE format says
                data = data.map { $0 + [UInt8(ascii: "\n")] + value } ?? Array(value)
            }
            line.removeAll(keepingCapacity: true)
        }
        return out
    }

    private static let dataField = Array("data:".utf8)

    private func event(_ data: [UInt8]) -> PubSubEvent? {
        let comma = UInt8(ascii: ",")
        switch kind {
        case .subscribe:
            if data.starts(with: Array("subscribe,".utf8)) { return .subscribed }
            let head = Array("message,".utf8) + name + [comma]
            guard data.starts(with: head) else { return nil }
            return .message(channel: name, payload: Array(data.dropFirst(head.count)))
        case .psubscribe:
            if data.starts(with: Array("psubscribe,".utf8)) { return .subscribed }
            let head = Array("pmessage,".utf8) + name + [comma]
            guard data.starts(with: head) else { return nil }
            let rest = data.dropFirst(head.count)
            guard let end = rest.firstIndex(of: comma) else { return nil }
            return .message(channel: Array(rest[..<end]), payload: Array(rest[(end + 1)...]))
        }
    }
}

extension UpstashClient {
    /// Subscribes to one channel (or pattern) over server-sent events, on connections of their own
    /// (a stream holds its connection as long as it lasts). Ends when the server ends the stream;
    /// throws when it refused it (a wrong token, say) or the connection failed. Stopping iteration
    /// (or cancelling the task that iterates) closes the stream.
    public func events(_ kind: EventStreamKind, _ name: [UInt8]) -> AsyncThrowingStream<PubSubEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: PubSubEvent.self)
        let parser = NIOLockedValueBox(EventStreamParser(kind: kind, name: name))
        let oversized = failure(.protocolError, "a subscription event was over \(parser.withLockedValue { $0.maxEventBytes } >> 20) MiB")
        let request = HTTPRequest(
            url: endpoint.url("/\(kind.rawValue)/" + RequestEncoding.percentEncode(name)),
            headers: [authorization, "Accept: text/event-stream"], body: [], timeout: options.requestTimeout,
            connectTimeout: options.connectTimeout,
            onBody: { chunk in
                do {
                    for event in try parser.withLockedValue({ try $0.feed(chunk) }) { continuation.yield(event) }
                } catch {
                    continuation.finish(throwing: oversized)
                }
            })
        let engine = streamEngine
        let task = Task { [self] in
            switch await engine.perform(request) {
            case .success(let response) where response.isSuccess:
                continuation.finish()
            case .success(let response):
                continuation.finish(throwing: refusal(of: response) ?? failure(.protocolError, "HTTP \(response.status)"))
            case .failure(let transport):
                continuation.finish(throwing: failure(transport.reason == .refused ? .unreachable : .transport, transport.message))
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }
}
