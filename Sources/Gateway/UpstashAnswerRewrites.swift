import RESP
import UpstashProfile

/// How the strict gateway gives Upstash's answer where Redis 7 answers otherwise (`UpstashAnswer`).
enum UpstashAnswerRewrites {
    /// `ZRANGESTORE … LIMIT` by rank: the rank range is resolved (negative ranks counted from the
    /// end), LIMIT applied inside it, and the result stored with a plain rank ZRANGESTORE.
    private static let zrangestoreByRank: [UInt8] = Array(
        """
        local n = redis.call('ZCARD', KEYS[2])
        local s, e, off, cnt = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
        if s == nil or e == nil or off == nil or cnt == nil then return redis.error_reply('ERR value is not an integer or out of range') end
        if s < 0 then s = n + s end
        if e < 0 then e = n + e end
        if s < 0 then s = 0 end
        if off < 0 then s = n else s = s + off end
        if cnt >= 0 and s + cnt - 1 < e then e = s + cnt - 1 end
        if ARGV[5] == '1' then return redis.pcall('ZRANGESTORE', KEYS[1], KEYS[2], s, e, 'REV') end
        return redis.pcall('ZRANGESTORE', KEYS[1], KEYS[2], s, e)
        """.utf8)

    /// The command rewritten to Upstash's semantics, or nil when it needs no rewrite.
    static func rewrite(_ arguments: [[UInt8]], name: String) -> [[UInt8]]? {
        switch name {
        case "ZRANGESTORE":
            // ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]
            guard arguments.count >= 5 else { return nil }
            let options = arguments[5...].map { UpstashCompatibility.commandName([$0]) }
            guard let limit = options.firstIndex(of: "LIMIT"), !options.contains("BYSCORE"), !options.contains("BYLEX"),
                limit + 2 < options.count
            else { return nil }
            let rev: [UInt8] = options.contains("REV") ? Array("1".utf8) : Array("0".utf8)
            var out: [[UInt8]] = [Array("EVAL".utf8), zrangestoreByRank, Array("2".utf8)]
            out += arguments[1...4]
            out.append(arguments[5 + limit + 1])
            out.append(arguments[5 + limit + 2])
            out.append(rev)
            return out
        case "XTRIM":
            // XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]: `~` without LIMIT trims exactly on Upstash.
            guard arguments.count >= 5, arguments[3] == [UInt8(ascii: "~")],
                !arguments[5...].contains(where: { UpstashCompatibility.commandName([$0]) == "LIMIT" })
            else { return nil }
            var out = arguments
            out[3] = [UInt8(ascii: "=")]
            return out
        default:
            return nil
        }
    }

    /// True for `XINFO CONSUMERS`, whose NOGROUP error becomes `[]`.
    static func isXinfoConsumers(_ arguments: [[UInt8]], name: String) -> Bool {
        name == "XINFO" && arguments.count >= 2 && UpstashCompatibility.commandName([arguments[1]]) == "CONSUMERS"
    }

    /// `[]` for a consumer group that does not exist, as Upstash answers.
    static func emptyOnNoGroup(_ reply: RESPValue) -> RESPValue {
        if case .error(let text) = reply, text.starts(with: Array("NOGROUP".utf8)) { return .array([]) }
        return reply
    }
}
