/// The Lua both sides run so values are compared by digest, never shipped whole.
enum DigestScript {
    /// KEYS: keys. ARGV[1]: the most elements digested in one call (bigger keys return digest '').
    /// Returns per key {type, absolute expiry ms (-1 none, -2 gone), length, digest}.
    /// Strings, lists, sorted sets and streams are digested in order; hashes and sets with an
    /// order-independent sum of element digests, since their iteration order differs between servers.
    static let batch = """
        local limit = tonumber(ARGV[1])
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
        local out = {}
        for i, k in ipairs(KEYS) do
          local typ = redis.call('TYPE', k)['ok']
          local exp, len, d = -2, 0, ''
          if typ ~= 'none' then
            exp = redis.call('PEXPIRETIME', k)
            if typ == 'string' then len = redis.call('STRLEN', k)
            elseif typ == 'list' then len = redis.call('LLEN', k)
            elseif typ == 'hash' then len = redis.call('HLEN', k)
            elseif typ == 'set' then len = redis.call('SCARD', k)
            elseif typ == 'zset' then len = redis.call('ZCARD', k)
            elseif typ == 'stream' then len = redis.call('XLEN', k) end
            if typ == 'string' and len <= limit * 64 then d = redis.sha1hex(redis.call('GET', k))
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
                local info = redis.call('XINFO', 'STREAM', k)
                for j = 1, #info, 2 do
                  if info[j] == 'last-generated-id' then parts[#parts + 1] = 'last:' .. ns(info[j + 1]) end
                end
                for _, g in ipairs(redis.call('XINFO', 'GROUPS', k)) do
                  for j = 1, #g, 2 do
                    if g[j] == 'name' or g[j] == 'last-delivered-id' then parts[#parts + 1] = ns(tostring(g[j + 1])) end
                  end
                end
                d = redis.sha1hex(table.concat(parts))
              else d = 'type:' .. typ end
            end
          end
          out[i] = {typ, exp, len, d}
        end
        return out
        """

    /// KEYS[1]: a big key. ARGV: type, start (index or SCAN cursor), count.
    /// Returns {next start ('' when done), digest of this chunk}.
    static let chunk = """
        local k, typ, start, count = KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3])
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
}
