import RESP
import RedisClient

/// Upstash's record limit (`ERR max single record size exceeded`): it applies to the whole stored
/// value or collection, growth by APPEND, RPUSH, HSET … included; reads and deletes are unaffected.
///
/// A command that can grow one key's record runs inside a short script that measures the record
/// first (STRLEN for a string, MEMORY USAGE for a collection, which samples large ones) and refuses
/// the command when the record would pass the limit: measured and run atomically, in one round trip.
enum RecordLimit {
    static let exceeded: [UInt8] = Array("ERR max single record size exceeded".utf8)

    /// Writes that replace a value outright: the argument check covers them.
    private static let replacing: Set<String> = [
        "set", "setex", "psetex", "setnx", "getset", "mset", "msetnx", "restore", "getex", "getdel", "copy", "rename", "renamenx",
    ]
    /// Writes whose growth is a few bytes (a number) or bounded by Redis itself (a HyperLogLog).
    private static let bounded: Set<String> = [
        "incr", "incrby", "decr", "decrby", "incrbyfloat", "hincrby", "hincrbyfloat", "zincrby", "pfadd", "json.numincrby",
        "json.nummultby", "json.toggle", "expire", "pexpire", "expireat", "pexpireat", "persist",
    ]
    /// Lua's `unpack` stops near 8,000 values: longer commands are not measured.
    private static let maxWrappedArguments = 7_000

    private static let script: [UInt8] = Array(
        """
        local t = redis.call('TYPE', KEYS[1])['ok']
        local size = 0
        if t == 'string' then size = redis.call('STRLEN', KEYS[1]) elseif t ~= 'none' then size = redis.call('MEMORY', 'USAGE', KEYS[1]) or 0 end
        local after = size + tonumber(ARGV[2])
        if tonumber(ARGV[3]) > after then after = tonumber(ARGV[3]) end
        if after > tonumber(ARGV[1]) then return redis.error_reply('ERR max single record size exceeded') end
        return redis.pcall(unpack(ARGV, 4))
        """.utf8)

    /// The command wrapped in the measuring script when it may grow one record; nil to send it as is.
    static func guarded(_ arguments: [[UInt8]], info: CommandInfo?, keys: [[UInt8]], limit: Int) -> [[UInt8]]? {
        guard let info, info.flags.contains("write"), info.flags.contains("denyoom"), keys.count == 1,
            arguments.count <= maxWrappedArguments
        else { return nil }
        let name = info.name
        if replacing.contains(name) || bounded.contains(name) { return nil }
        if name == "json.set", arguments.count > 2, arguments[2] == Array("$".utf8) || arguments[2] == Array(".".utf8) { return nil }
        var growth = -keys[0].count
        for a in arguments.dropFirst() { growth += a.count }
        var floor = 0
        switch name {
        case "setrange":
            growth = 0
            floor = (arguments.count > 3 ? Int(String(decoding: arguments[2], as: UTF8.self)) ?? 0 : 0) + (arguments.last?.count ?? 0)
        case "setbit":
            growth = 0
            floor = (arguments.count > 2 ? Int(String(decoding: arguments[2], as: UTF8.self)) ?? 0 : 0) / 8 + 1
        default:
            break
        }
        var wrapped: [[UInt8]] = [Array("EVAL".utf8), script, Array("1".utf8), keys[0]]
        wrapped.append(Array(String(limit).utf8))
        wrapped.append(Array(String(growth).utf8))
        wrapped.append(Array(String(floor).utf8))
        wrapped.append(contentsOf: arguments)
        return wrapped
    }
}
