import RESP

/// The Lua that writes on the target: one call carries the writes of many keys (a whole batch),
/// so Upstash bills one call plus the commands it runs, never a script per key.
///
/// KEYS: the keys the call touches, declared for Upstash's key locking (empty for a call whose
/// keys are escaped: those cannot be declared, and such a call runs without the flag).
/// ARGV[1]: one flag per further argument: `0` as sent, `1` escaped (`ScriptEscape`), `2` the
/// name of a piece key whose bytes stand in for the argument (an element too big for one request).
/// ARGV[2…]: operations, each `opcode, unit, argument count, arguments…` (`WriteOp`); the
/// operations of one key share a unit, and once one of them fails the rest are skipped.
/// Returns `{commands run, one result per operation}`: 1 written, 0 left alone (it existed and
/// `--on-conflict skip`), -1 nothing to finish, or `!` and the error text when it failed (a failed
/// operation deletes what it had half-built; the other keys' operations still run).
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

    static let body =
        ScriptEscape.luaUnescape + "\n" + #"""
            local flags, pos, calls = ARGV[1], 2, 0
            local PER, TEMP_TTL = \#(elementsPerCall), \#(temporaryTTLMilliseconds)
            local function call(...)
              calls = calls + 1
              return redis.call(...)
            end
            local function errtext(e)
              if type(e) == 'table' then return tostring(e.err or e) end
              return tostring(e)
            end
            local function arg()
              local a, f = ARGV[pos], string.byte(flags, pos - 1)
              pos = pos + 1
              if f == 49 then return unescape(a) end
              if f == 50 then return call('GET', a) end
              if f == 51 then return call('GET', unescape(a)) end
              return a
            end
            local function number() return tonumber(arg()) end
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
            OPS.S = function()
              local key, value, pxat, mode = arg(), arg(), arg(), arg()
              local a = {'SET', key, value}
              if pxat ~= '0' then a[#a + 1] = 'PXAT'; a[#a + 1] = pxat end
              if mode == 's' then a[#a + 1] = 'NX' end
              return call(unpack(a)) and 1 or 0
            end
            OPS.R = function()
              local key, pxat, mode, payload = arg(), arg(), arg(), arg()
              if mode == 's' then
                local ok, e = pcall(call, 'RESTORE', key, pxat, payload, 'ABSTTL')
                if ok then return 1 end
                if string.find(errtext(e), 'BUSYKEY', 1, true) then return 0 end
                error(e)
              end
              call('RESTORE', key, pxat, payload, 'ABSTTL', 'REPLACE')
              return 1
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
            local results, failed = {0}, {}
            while pos <= #ARGV do
              local op, unit, n = ARGV[pos], ARGV[pos + 1], tonumber(ARGV[pos + 2])
              pos = pos + 3
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
