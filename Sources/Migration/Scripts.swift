/// The Lua the migration runs: one script reads a batch of keys' metadata atomically on the
/// source, one writes a key on the target in a single command (replace semantics, absolute expiry).
enum Scripts {
    /// KEYS: the keys. Returns, per key, {type, absolute expiry ms (-1 none, -2 gone), length, memory}.
    /// PEXPIRETIME where the server has it (Redis ≥ 7); otherwise TIME + PTTL in the same atomic call.
    static let probe = """
        local out = {}
        local withMemory = ARGV[1] == '1'
        local now = nil
        for i, k in ipairs(KEYS) do
          local typ = redis.call('TYPE', k)['ok']
          local exp, len, mem = -2, 0, 0
          if typ ~= 'none' then
            local ok, e = pcall(redis.call, 'PEXPIRETIME', k)
            if ok then
              exp = e
            else
              local pttl = redis.call('PTTL', k)
              if pttl < 0 then exp = -1 else
                if now == nil then
                  local t = redis.call('TIME')
                  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
                end
                exp = now + pttl
              end
            end
            if typ == 'string' then len = redis.call('STRLEN', k)
            elseif typ == 'list' then len = redis.call('LLEN', k)
            elseif typ == 'hash' then len = redis.call('HLEN', k)
            elseif typ == 'set' then len = redis.call('SCARD', k)
            elseif typ == 'zset' then len = redis.call('ZCARD', k)
            elseif typ == 'stream' then len = redis.call('XLEN', k) end
            if withMemory then mem = redis.call('MEMORY', 'USAGE', k) or 0 end
          end
          out[i] = {typ, exp, len, mem}
        end
        return out
        """

    /// KEYS[1] the key written (or its temporary key), KEYS[2] the final key (finish).
    /// ARGV: op (put | first | more | finish | restore), type, absolute expiry ms ('0' none),
    /// conflict (replace | skip), payload (netstrings "len:bytes…", so binary stays binary).
    /// Returns 1 written, 0 skipped (exists, with conflict = skip), -1 nothing to finish.
    static let write = """
        local op, typ, pxat, conflict, blob = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5] or ''
        local key = KEYS[1]
        if conflict == 'skip' and (op == 'put' or op == 'first' or op == 'restore') then
          if redis.call('EXISTS', KEYS[2] or key) == 1 then return 0 end
        end
        local items, pos, n = {}, 1, #blob
        while pos <= n do
          local colon = string.find(blob, ':', pos, true)
          local len = tonumber(string.sub(blob, pos, colon - 1))
          items[#items + 1] = string.sub(blob, colon + 1, colon + len)
          pos = colon + len + 1
        end
        local function streamMeta(from)
          local lastId, groups = items[from], tonumber(items[from + 1])
          if redis.call('EXISTS', key) == 0 then
            redis.call('XADD', key, '0-1', '_', '_')
            redis.call('XDEL', key, '0-1')
          end
          redis.call('XSETID', key, lastId)
          local g = from + 2
          for _ = 1, groups do
            if items[g + 2] == '' then
              redis.call('XGROUP', 'CREATE', key, items[g], items[g + 1])
            else
              redis.call('XGROUP', 'CREATE', key, items[g], items[g + 1], 'ENTRIESREAD', items[g + 2])
            end
            g = g + 3
          end
        end
        if op == 'restore' then
          redis.call('RESTORE', key, pxat, items[1], 'REPLACE', 'ABSTTL')
          return 1
        end
        if op == 'finish' then
          if typ == 'stream' then streamMeta(1) end
          if redis.call('EXISTS', key) == 0 then return -1 end
          if pxat > 0 then redis.call('PEXPIREAT', key, pxat) end
          if redis.call('EXISTS', key) == 1 then redis.call('RENAME', key, KEYS[2]) else redis.call('DEL', KEYS[2]) end
          return 1
        end
        if op == 'put' or op == 'first' then redis.call('DEL', key) end
        local function each(cmd, from, to, per)
          local i = from
          while i <= to do
            local last = math.min(i + per - 1, to)
            redis.call(cmd, key, unpack(items, i, last))
            i = last + 1
          end
        end
        if typ == 'string' then
          if op == 'more' then redis.call('APPEND', key, items[1]) else redis.call('SET', key, items[1] or '') end
        elseif typ == 'hash' then each('HSET', 1, #items, 1000)
        elseif typ == 'list' then each('RPUSH', 1, #items, 1000)
        elseif typ == 'set' then each('SADD', 1, #items, 1000)
        elseif typ == 'zset' then each('ZADD', 1, #items, 1000)
        elseif typ == 'stream' then
          local count, i = tonumber(items[1]), 2
          for _ = 1, count do
            local id, nf = items[i], tonumber(items[i + 1])
            redis.call('XADD', key, id, unpack(items, i + 2, i + 1 + nf))
            i = i + 2 + nf
          end
          if op == 'put' then streamMeta(i) end
        end
        if op == 'put' and pxat > 0 then redis.call('PEXPIREAT', key, pxat) end
        return 1
        """
}

/// Packs byte strings as netstrings (`5:hello`), which the write script unpacks: one binary-safe argument.
struct Payload {
    private(set) var bytes: [UInt8] = []
    private(set) var count = 0

    mutating func append(_ item: [UInt8]) {
        bytes.append(contentsOf: String(item.count).utf8)
        bytes.append(UInt8(ascii: ":"))
        bytes.append(contentsOf: item)
        count += 1
    }

    mutating func append(_ text: String) { append(Array(text.utf8)) }
}
