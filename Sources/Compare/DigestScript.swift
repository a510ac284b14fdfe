import Keyspace
import RESP

/// The Lua both sides run so values are compared by digest, never shipped whole.
enum DigestScript {
    /// KEYS: the keys, or none when they travel escaped in ARGV (binary keys over REST).
    /// ARGV[1]: the most elements digested in one call (bigger keys return digest '').
    /// ARGV[2]: with no KEYS, one flag per key (`1` escaped), then the keys from ARGV[3].
    /// Returns per key {type, absolute expiry ms (-1 none, -2 gone), length, digest, stream metadata
    /// digest, 1 when the expiry is exact (PEXPIRETIME) or 0 when read as TIME + PTTL (Redis 6)}.
    /// Strings, lists, sorted sets and streams are digested in order; hashes and sets with an
    /// order-independent sum of element digests, since their iteration order differs between servers.
    /// A stream's digest covers its entries, last id, groups (name, last delivered id), consumers and
    /// pending entries (id, owner, delivery count); a JSON document's, its text.
    static let batch =
        ScriptEscape.luaUnescape + "\n" + KeyProbe.luaAbsoluteExpiry + "\n" + KeyProbe.luaLength + "\n"
            + """
            local limit = tonumber(ARGV[1])
            local keys = KEYS
            if #KEYS == 0 and #ARGV > 2 then
              keys = {}
              for i = 3, #ARGV do
                if string.byte(ARGV[2], i - 2) == 49 then keys[i - 2] = unescape(ARGV[i]) else keys[i - 2] = ARGV[i] end
              end
            end
            local function ns(s) return #s .. ':' .. s end
            local function unordered(items, step)
              local sum, i = 0, 1
              while i <= #items do
                local piece = ns(items[i])
                if step == 2 then piece = piece .. ns(items[i + 1]) end
                sum = (sum + tonumber(string.sub(redis.sha1hex(piece), 1, 8), 16)) % 4294967296
                i = i + step
              end
              return string.format('%d:%08x', #items / step, sum)
            end
            local function streamMeta(k, parts)
              local info = redis.call('XINFO', 'STREAM', k)
              for j = 1, #info, 2 do
                if info[j] == 'last-generated-id' then parts[#parts + 1] = 'last:' .. ns(info[j + 1]) end
              end
              for _, g in ipairs(redis.call('XINFO', 'GROUPS', k)) do
                local name
                for j = 1, #g, 2 do
                  if g[j] == 'name' then name = g[j + 1] end
                  if g[j] == 'name' or g[j] == 'last-delivered-id' then parts[#parts + 1] = ns(tostring(g[j + 1])) end
                end
                local consumers = {}
                for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', k, name)) do
                  for j = 1, #c, 2 do if c[j] == 'name' then consumers[#consumers + 1] = c[j + 1] end end
                end
                table.sort(consumers)
                for _, c in ipairs(consumers) do parts[#parts + 1] = 'c:' .. ns(c) end
                for _, p in ipairs(redis.call('XPENDING', k, name, '-', '+', limit)) do
                  parts[#parts + 1] = 'p:' .. ns(p[1]) .. ns(p[2]) .. ns(tostring(p[4]))
                end
              end
            end
            local out = {}
            for i, k in ipairs(keys) do
              local typ = redis.call('TYPE', k)['ok']
              local exp, len, d, m = -2, 0, '', ''
              if typ ~= 'none' then
                exp = absoluteExpiry(k)
                len = keyLength(k, typ)
                if typ == 'string' and len <= limit * 64 then d = redis.sha1hex(redis.call('GET', k))
                elseif typ == 'ReJSON-RL' then d = redis.sha1hex(redis.call('JSON.GET', k))
                elseif len <= limit then
                  if typ == 'list' or typ == 'zset' then
                    local items = typ == 'list' and redis.call('LRANGE', k, 0, -1) or redis.call('ZRANGE', k, 0, -1, 'WITHSCORES')
                    local parts = {}
                    for j, v in ipairs(items) do parts[j] = ns(v) end
                    d = redis.sha1hex(table.concat(parts))
                  elseif typ == 'hash' then d = unordered(redis.call('HGETALL', k), 2)
                  elseif typ == 'set' then d = unordered(redis.call('SMEMBERS', k), 1)
                  elseif typ == 'stream' then
                    local parts = {}
                    for _, e in ipairs(redis.call('XRANGE', k, '-', '+')) do
                      parts[#parts + 1] = ns(e[1])
                      for _, f in ipairs(e[2]) do parts[#parts + 1] = ns(f) end
                    end
                    d = redis.sha1hex(table.concat(parts))
                  else d = 'type:' .. typ end
                end
                if typ == 'stream' then
                  local parts = {}
                  streamMeta(k, parts)
                  m = redis.sha1hex(table.concat(parts))
                end
              end
              out[i] = {typ, exp, len, d, m, hasPexpiretime == false and 0 or 1}
            end
            return out
            """

    /// The command that digests `keys` with the batch script loaded as `sha`; keys travel escaped
    /// in ARGV when the backend cannot carry them as they are.
    static func command(sha: [UInt8], keys: [[UInt8]], limit: Int, carriesBinary: Bool) -> RESPCommand {
        if carriesBinary || keys.allSatisfy(ScriptEscape.isPlain) {
            return RESPCommand("EVALSHA", arguments: [sha, keys.count] + keys + [limit])
        }
        var flags: [UInt8] = []
        var args: [[UInt8]] = []
        for k in keys {
            let plain = ScriptEscape.isPlain(k)
            flags.append(plain ? UInt8(ascii: "0") : UInt8(ascii: "1"))
            args.append(plain ? k : ScriptEscape.escape(k))
        }
        return RESPCommand("EVALSHA", arguments: [sha, 0, limit, flags] + args)
    }

    /// KEYS[1]: a big key (or none, with the key escaped in ARGV[4]). ARGV: type, start (index or
    /// SCAN cursor), count. Returns {next start ('' when done), digest of this chunk}; a stream's
    /// last chunk carries its metadata too.
    static let chunk =
        ScriptEscape.luaUnescape + "\n"
            + """
            local k, typ, start, count = KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3])
            if k == nil then k = unescape(ARGV[4]) end
            local function ns(s) return #s .. ':' .. s end
            local parts, nextStart = {}, ''
            if typ == 'string' then
              local s = tonumber(start)
              local piece = redis.call('GETRANGE', k, s, s + count * 64 - 1)
              if #piece == count * 64 then nextStart = tostring(s + #piece) end
              return {nextStart, redis.sha1hex(piece)}
            elseif typ == 'list' or typ == 'zset' then
              local s = tonumber(start)
              local items = typ == 'list' and redis.call('LRANGE', k, s, s + count - 1) or redis.call('ZRANGE', k, s, s + count - 1, 'WITHSCORES')
              for j, v in ipairs(items) do parts[j] = ns(v) end
              local got = typ == 'list' and #items or #items / 2
              if got == count then nextStart = tostring(s + count) end
              return {nextStart, redis.sha1hex(table.concat(parts))}
            elseif typ == 'stream' then
              local items = redis.call('XRANGE', k, start, '+', 'COUNT', count)
              for _, e in ipairs(items) do
                parts[#parts + 1] = ns(e[1])
                for _, f in ipairs(e[2]) do parts[#parts + 1] = ns(f) end
              end
              if #items == count then nextStart = '(' .. items[#items][1] end
              return {nextStart, redis.sha1hex(table.concat(parts))}
            elseif typ == 'hash' or typ == 'set' then
              local r = redis.call(typ == 'hash' and 'HSCAN' or 'SSCAN', k, start, 'COUNT', count)
              local items, step, sum, n = r[2], typ == 'hash' and 2 or 1, 0, 0
              local i = 1
              while i <= #items do
                local piece = ns(items[i])
                if step == 2 then piece = piece .. ns(items[i + 1]) end
                sum = (sum + tonumber(string.sub(redis.sha1hex(piece), 1, 8), 16)) % 4294967296
                n = n + 1
                i = i + step
              end
              if r[1] ~= '0' then nextStart = r[1] end
              return {nextStart, n .. ':' .. sum}
            end
            return {'', ''}
            """

    /// The chunk command for one big key.
    static func chunkCommand(sha: [UInt8], key: [UInt8], type: KeyType, start: String, count: Int, carriesBinary: Bool) -> RESPCommand {
        if carriesBinary || ScriptEscape.isPlain(key) { return RESPCommand("EVALSHA", sha, 1, key, type.name, start, count) }
        return RESPCommand("EVALSHA", sha, 0, type.name, start, count, ScriptEscape.escape(key))
    }
}
