import RESP

/// What one atomic look at a key found: its type, absolute expiry and size.
public struct ProbedKey: Sendable, Hashable {
    /// The key, as scanned.
    public var key: [UInt8]
    public var type: KeyType
    /// Absolute expiry in Unix milliseconds; -1 when the key never expires, -2 when it is gone.
    public var expireAt: Int64
    /// Elements of a collection, bytes of a string; 1 for a JSON document.
    public var length: Int
    /// `MEMORY USAGE` (an estimate for collections: Redis samples five elements); 0 when not asked.
    public var memory: Int

    public init(key: [UInt8], type: KeyType, expireAt: Int64, length: Int, memory: Int) {
        self.key = key
        self.type = type
        self.expireAt = expireAt
        self.length = length
        self.memory = memory
    }

    /// True when the key no longer exists.
    public var isGone: Bool { type == .missing || expireAt == -2 }
}

/// The one Lua that reads keys' type, absolute expiry and size, atomically per call, for every job
/// (migrate, compare, report) and every server they meet (Redis 6.2 has no PEXPIRETIME).
public enum KeyProbe {
    /// Lua defining `local function absoluteExpiry(k)`: PEXPIRETIME where the server has it
    /// (Redis ≥ 7), otherwise TIME + PTTL in the same atomic call. -1 none, -2 gone.
    public static let luaAbsoluteExpiry = """
        local probeNow, hasPexpiretime = nil, nil
        local function absoluteExpiry(k)
          if hasPexpiretime ~= false then
            local ok, e = pcall(redis.call, 'PEXPIRETIME', k)
            if ok then
              hasPexpiretime = true
              return e
            end
            hasPexpiretime = false
          end
          local pttl = redis.call('PTTL', k)
          if pttl < 0 then return pttl end
          if probeNow == nil then
            local t = redis.call('TIME')
            probeNow = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
          end
          return probeNow + pttl
        end
        """

    /// Lua defining `local function keyLength(k, typ)`: elements of a collection, bytes of a string.
    public static let luaLength = """
        local function keyLength(k, typ)
          if typ == 'string' then return redis.call('STRLEN', k)
          elseif typ == 'list' then return redis.call('LLEN', k)
          elseif typ == 'hash' then return redis.call('HLEN', k)
          elseif typ == 'set' then return redis.call('SCARD', k)
          elseif typ == 'zset' then return redis.call('ZCARD', k)
          elseif typ == 'stream' then return redis.call('XLEN', k) end
          return 1
        end
        """

    /// KEYS: the keys. ARGV[1]: '1' to read MEMORY USAGE too. Returns per key {type, expiry, length, memory}.
    public static let script =
        luaAbsoluteExpiry + "\n" + luaLength + "\n"
            + """
            local out = {}
            local withMemory = ARGV[1] == '1'
            for i, k in ipairs(KEYS) do
              local typ = redis.call('TYPE', k)['ok']
              local exp, len, mem = -2, 0, 0
              if typ ~= 'none' then
                exp = absoluteExpiry(k)
                len = keyLength(k, typ)
                if withMemory then mem = redis.call('MEMORY', 'USAGE', k) or 0 end
              end
              out[i] = {typ, exp, len, mem}
            end
            return out
            """

    /// The command that probes `keys` with the script loaded as `sha`.
    public static func command(sha: [UInt8], keys: [[UInt8]], memory: Bool) -> RESPCommand {
        RESPCommand("EVALSHA", arguments: [sha, keys.count] + keys + [memory ? "1" : "0"])
    }

    /// The rows of the script's reply, one per key; nil when the reply is not the script's.
    public static func parse(_ reply: RESPValue, keys: [[UInt8]]) -> [ProbedKey?]? {
        guard let rows = reply.array, rows.count == keys.count else { return nil }
        return zip(keys, rows).map { key, row in
            guard let a = row.array, a.count == 4, let type = a[0].bytes else { return nil }
            return ProbedKey(
                key: key, type: KeyType(name: type), expireAt: a[1].integer ?? -1, length: Int(a[2].integer ?? 0),
                memory: Int(a[3].integer ?? 0))
        }
    }
}
