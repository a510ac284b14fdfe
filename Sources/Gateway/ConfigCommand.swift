import RESP
import UpstashProfile

/// `CONFIG GET|SET` as Upstash serves them: only `notify-keyspace-events` is visible or settable
/// (upstash/docs redis/commands/server/config-get.mdx, config-set.mdx).
enum ConfigCommand {
    private static let parameter = Array(UpstashCommandSurface.configurableParameter.utf8)

    /// The refusal for a `CONFIG SET` of another parameter, or nil when it may run.
    static func refusal(_ arguments: [[UInt8]]) -> RESPValue? {
        guard arguments.count >= 2, lowercased(arguments[1]) == Array("set".utf8) else { return nil }
        let names = stride(from: 2, to: arguments.count, by: 2).map { lowercased(arguments[$0]) }
        guard names.allSatisfy({ $0 == parameter }) else {
            // The docs say any other parameter "returns an error" without giving its text.
            return .error(Array("ERR CONFIG SET is only allowed for \(UpstashCommandSurface.configurableParameter)".utf8))
        }
        return nil
    }

    /// True for `CONFIG GET …`, whose reply is narrowed.
    static func isGet(_ arguments: [[UInt8]]) -> Bool {
        arguments.count >= 2 && lowercased(arguments[0]) == Array("config".utf8) && lowercased(arguments[1]) == Array("get".utf8)
    }

    /// A `CONFIG GET` reply with every pair but `notify-keyspace-events` removed: other names
    /// "simply return no matching entries rather than an error".
    static func narrow(_ reply: RESPValue) -> RESPValue {
        guard case .array(let items?) = reply else { return reply }
        var kept: [RESPValue] = []
        var i = 0
        while i + 1 < items.count {
            if let name = items[i].bytes, lowercased(name) == parameter { kept += [items[i], items[i + 1]] }
            i += 2
        }
        return .array(kept)
    }
}
