import RESP

/// The Lua that writes on the target: one call carries the writes of many keys (a whole batch),
/// so Upstash bills one call plus the commands it runs, never a script per key.
///
/// KEYS: the keys the call touches, declared for Upstash's key locking; an `M` operation names its
/// keys by their place in KEYS (`SimpleBatch`).
/// ARGV[1]: every operation's arguments as netstrings (`ScriptArguments`): `opcode, unit, size,
/// arguments…` (`WriteOp`); `p<len>:name` stands for the bytes of the piece key `name` (an element
/// too big for one request). The operations of one key share a unit, and once one of them fails
/// the rest are skipped.
/// Returns `{commands run, one result per operation}`: 1 written, 0 left alone (it existed and
/// `--on-conflict skip`), -1 nothing to finish, a string of `1`/`0` per key for `M`, or `!` and the
/// error text when it failed (a failed operation deletes what it had half-built; the other
/// operations still run).
///
/// Every command it sends is on Upstash's command pages (no XSETID, no `XGROUP CREATE … ENTRIESREAD`):
/// a stream's last id is set by adding and deleting an entry at that id, entries-read by `XGROUP SETID
/// … ENTRIESREAD`, pending entries by `XCLAIM … FORCE`, an empty stream by `XGROUP CREATE … MKSTREAM`.
enum WriteScript {
    /// Elements per command inside the script, under the ~8,000 values Lua's `unpack` can spread.
    static let elementsPerCall = 7000
    /// The TTL of temporary and piece keys, so a killed run cannot leave one behind forever.
    static let temporaryTTLMilliseconds = 86_400_000

    /// The script; with `keyLocking`, under Upstash's `allow-key-locking` flag (only its KEYS are locked).
    static func text(keyLocking: Bool) -> String {
        (keyLocking ? "#!lua flags=allow-key-locking\n" : "") + body
    }

    static let body = #"""
        local blob, pos, calls = ARGV[1], 1, 0
        local find, sub, byte = string.find, string.sub, string.byte
        local PER, TEMP_TTL = \#(elementsPerCall), \#(temporaryTTLMilliseconds)
        local INDEX0, LENGTH0 = \#(SimpleBatch.digitsOffset(SimpleBatch.keyIndexDigits)), \#(SimpleBatch.digitsOffset(SimpleBatch.lengthDigits))
        local function call(...)
          calls = calls + 1
          return redis.call(...)
        end
        local function errtext(e)
          if type(e) == 'table' then return tostring(e.err or e) end
          return tostring(e)
        end
        local function arg()
          local c = find(blob, ':', pos, true)
          if byte(blob, pos) == 112 then
            local len = tonumber(sub(blob, pos + 1, c - 1))
            pos = c + len + 1
            return call('GET', sub(blob, c + 1, c + len))
          end
          local len = tonumber(sub(blob, pos, c - 1))
          pos = c + len + 1
          return sub(blob, c + 1, c + len)
        end
        local function number() return tonumber(arg()) end
        -- where a netstring's bytes start, without copying them out of the blob
        local function span()
          local c = find(blob, ':', pos, true)
          local len = tonumber(sub(blob, pos, c - 1))
          pos = c + len + 1
          return c + 1
        end
        local function list(n)
          local items = {}
          for i = 1, n do items[i] = arg() end
          return items
        end
        local function exists(key) return call('EXISTS', key) == 1 end
        local ADD = {hash = 'HSET', list = 'RPUSH', set = 'SADD', zset = 'ZADD'}
        local STEP = {hash = 2, list = 1, set = 1, zset = 2}
        local function sliced(cmd, head, items, tail)
          local i, n = 1, #items
          while i <= n do
            local last = math.min(i + PER - 1, n)
            local a = {}
            for _, h in ipairs(head) do a[#a + 1] = h end
            for j = i, last do a[#a + 1] = items[j] end
            for _, t in ipairs(tail) do a[#a + 1] = t end
            call(cmd, unpack(a))
            i = last + 1
          end
        end
        local function add(typ, key, items)
          local step, i, n = STEP[typ], 1, #items
          local per = PER - PER % step
          while i <= n do
            local last = math.min(i + per - 1, n)
            call(ADD[typ], key, unpack(items, i, last))
            i = last + 1
          end
        end
        local function entries(key, n)
          for _ = 1, n do
            local id, nf = arg(), number()
            call('XADD', key, id, unpack(list(nf)))
          end
        end
        local function streamMeta(key)
          local lastId, bump = arg(), arg()
          if not exists(key) then
            if bump == '1' then
              call('XADD', key, lastId, '_', '_')
              call('XDEL', key, lastId)
              bump = '0'
            else
              call('XGROUP', 'CREATE', key, 'upshift:mkstream', '$', 'MKSTREAM')
              call('XGROUP', 'DESTROY', key, 'upshift:mkstream')
            end
          end
          for _ = 1, number() do
            local name, delivered, entriesRead = arg(), arg(), arg()
            call('XGROUP', 'CREATE', key, name, delivered)
            if entriesRead ~= '' then call('XGROUP', 'SETID', key, name, delivered, 'ENTRIESREAD', entriesRead) end
            for _ = 1, number() do call('XGROUP', 'CREATECONSUMER', key, name, arg()) end
            for _ = 1, number() do
              local consumer, idle, count = arg(), arg(), arg()
              sliced('XCLAIM', {key, name, consumer, '0'}, list(number()), {'IDLE', idle, 'RETRYCOUNT', count, 'FORCE', 'JUSTID'})
            end
          end
          local gone = list(number())
          if #gone > 0 then sliced('XDEL', {key}, gone, {}) end
          if bump == '1' then
            call('XADD', key, lastId, '_', '_')
            call('XDEL', key, lastId)
          end
        end
        local function expire(key, pxat)
          if pxat ~= '0' then call('PEXPIREAT', key, pxat) end
        end
        local cleanup
        local OPS = {}
        OPS.M = function()
          -- the hot loop of a cache's copy (SimpleBatch): a key's header read by one string.byte, its
          -- name from KEYS, the SETs of a batch as one MSET; redis.call directly, the commands counted once
          local skip, n, kind = arg() == 's', number(), arg()
          local hp, dp = span(), span()
          local out, rcall, kv, np, expiring, ne = {}, redis.call, {}, 0, {}, 0
          local batched = kind == 's' and not skip
          for i = 1, n do
            local k1, k2, k3, k4, v1, v2, v3, v4, v5, v6, t = byte(blob, hp, hp + 10)
            hp = hp + 11
            local key = KEYS[((k1 * 32 + k2) * 32 + k3) * 32 + k4 - INDEX0]
            local vl = ((((v1 * 32 + v2) * 32 + v3) * 32 + v4) * 32 + v5) * 32 + v6 - LENGTH0
            local value = sub(blob, dp, dp + vl - 1)
            dp = dp + vl
            local tl, pxat = t - 48, '0'
            if tl > 0 then
              pxat = sub(blob, dp, dp + tl - 1)
              dp = dp + tl
            end
            if batched then
              kv[np + 1], kv[np + 2], np = key, value, np + 2
              if tl > 0 then expiring[ne + 1], expiring[ne + 2], ne = key, pxat, ne + 2 end
              out[i] = '1'
            elseif kind == 'r' then
              if not skip then
                rcall('RESTORE', key, pxat, value, 'ABSTTL', 'REPLACE')
                out[i] = '1'
              else
                local ok, e = pcall(rcall, 'RESTORE', key, pxat, value, 'ABSTTL')
                if ok then out[i] = '1'
                elseif find(errtext(e), 'BUSYKEY', 1, true) then out[i] = '0'
                else error(e) end
              end
              calls = calls + 1
            else
              local r
              if tl == 0 then r = rcall('SET', key, value, 'NX')
              else r = rcall('SET', key, value, 'PXAT', pxat, 'NX') end
              out[i] = r and '1' or '0'
              calls = calls + 1
            end
          end
          for i = 1, np, PER do
            rcall('MSET', unpack(kv, i, math.min(i + PER - 1, np)))
            calls = calls + 1
          end
          for i = 1, ne, 2 do
            rcall('PEXPIREAT', expiring[i], expiring[i + 1])
            calls = calls + 1
          end
          return table.concat(out)
        end
        OPS.C = function()
          local key, typ, pxat, mode, n = arg(), arg(), arg(), arg(), number()
          if mode == 's' and exists(key) then return 0 end
          cleanup = key
          call('DEL', key)
          add(typ, key, list(n))
          expire(key, pxat)
          return 1
        end
        OPS.J = function()
          local key, pxat, mode = arg(), arg(), arg()
          if mode == 's' and exists(key) then return 0 end
          cleanup = key
          call('DEL', key)
          call('JSON.SET', key, '$', arg())
          expire(key, pxat)
          return 1
        end
        OPS.X = function()
          local key, pxat, mode = arg(), arg(), arg()
          if mode == 's' and exists(key) then return 0 end
          cleanup = key
          call('DEL', key)
          entries(key, number())
          streamMeta(key)
          expire(key, pxat)
          return 1
        end
        OPS.T = function()
          local tmp, typ, first, n = arg(), arg(), arg() == '1', number()
          cleanup = tmp
          if typ == 'string' then
            if first then call('SET', tmp, arg(), 'PX', TEMP_TTL) else call('APPEND', tmp, arg()) end
            return 1
          end
          if first then call('DEL', tmp) end
          if typ == 'stream' then entries(tmp, n) else add(typ, tmp, list(n)) end
          if first then call('PEXPIRE', tmp, TEMP_TTL) end
          return 1
        end
        OPS.P = function()
          local piece, first, bytes = arg(), arg() == '1', arg()
          cleanup = piece
          if first then call('SET', piece, bytes, 'PX', TEMP_TTL) else call('APPEND', piece, bytes) end
          return 1
        end
        OPS.F = function()
          local tmp, final, pxat, mode, isStream = arg(), arg(), arg(), arg(), arg() == '1'
          cleanup = tmp
          if mode == 's' and exists(final) then
            call('DEL', tmp)
            return 0
          end
          if isStream then streamMeta(tmp) elseif not exists(tmp) then return -1 end
          if pxat ~= '0' then call('PEXPIREAT', tmp, pxat) else call('PERSIST', tmp) end
          call('RENAME', tmp, final)
          return 1
        end
        OPS.D = function()
          call('DEL', unpack(list(number())))
          return 1
        end
        local results, failed, size = {0}, {}, #blob
        while pos <= size do
          local op, unit, n = arg(), arg(), tonumber(arg())
          local after = pos + n
          local r
          if failed[unit] then
            r = '!' .. failed[unit]
          else
            cleanup = nil
            local ok, v = pcall(OPS[op])
            if ok then
              r = v
            else
              local text = errtext(v)
              if cleanup then
                calls = calls + 1
                pcall(redis.call, 'DEL', cleanup)
              end
              failed[unit] = text
              r = '!' .. text
            end
          end
          results[#results + 1] = r
          pos = after
        end
        results[1] = calls
        return results
        """#
}
