import RESP

/// What the gateway does with one command of a request.
enum GatewayStep: Sendable {
    /// Answered here (a refusal, or a command the gateway serves itself); never reaches Redis.
    case answer(RESPValue)
    /// Sent on the shared pipelined connections, its reply then transformed.
    case send(Prepared)
    /// Run on a connection of its own (WAIT would stall the shared pipeline), after what precedes it.
    case dedicated(@Sendable () async throws -> RESPValue)
}

/// A command ready for Redis, and what to do to its reply.
struct Prepared: Sendable {
    var arguments: [[UInt8]]
    var transform: ReplyTransform = .none
}

/// How a reply from Redis becomes the reply Upstash would give.
enum ReplyTransform: Sendable {
    case none
    /// SCRIPT LOAD of a rewritten script: the digest of the client's text, not of what Redis holds.
    case clientDigest([UInt8])
    /// A script run: the gateway's own refusals lose Redis's ` script: …` suffix, and Redis's digest
    /// of the rewritten text becomes the client's digest in other errors.
    case script(rewrittenDigest: [UInt8], clientDigest: [UInt8])
    /// XINFO CONSUMERS: a missing group is `[]`.
    case emptyOnNoGroup
    /// CONFIG GET: only notify-keyspace-events.
    case narrowConfig
    /// FUNCTION LIST WITHCODE: the library code as the client loaded it.
    case libraryCode

    func apply(_ reply: RESPValue) -> RESPValue {
        switch self {
        case .none: return reply
        case .clientDigest(let digest):
            if case .bulkString(_?) = reply { return .bulkString(digest) }
            return reply
        case .script(let rewritten, let client):
            guard case .error(let text) = reply else { return reply }
            if let own = ScriptPrelude.ownError(text) { return .error(own) }
            return .error(replacing(rewritten, with: client, in: text))
        case .emptyOnNoGroup: return UpstashAnswerRewrites.emptyOnNoGroup(reply)
        case .narrowConfig: return ConfigCommand.narrow(reply)
        case .libraryCode: return Self.unprelude(reply)
        }
    }

    private static func unprelude(_ value: RESPValue) -> RESPValue {
        switch value {
        case .bulkString(let b?): return .bulkString(ScriptPrelude.remove(from: b))
        case .array(let items?): return .array(items.map(unprelude))
        default: return value
        }
    }

    private func replacing(_ needle: [UInt8], with replacement: [UInt8], in text: [UInt8]) -> [UInt8] {
        guard !needle.isEmpty, text.count >= needle.count else { return text }
        var out: [UInt8] = []
        var i = 0
        while i < text.count {
            if i + needle.count <= text.count && text[i..<(i + needle.count)].elementsEqual(needle) {
                out += replacement
                i += needle.count
            } else {
                out.append(text[i])
                i += 1
            }
        }
        return out
    }
}
