import RedisClient
import UpstashProfile

/// The one line of Lua the strict gateway puts in front of every script and function library, so
/// that what Upstash refuses is refused inside scripts too: it shadows the global `redis` with a
/// table whose `call` and `pcall` check each command first. It goes at the start of the first body
/// line (after a shebang), on that same line, so the line numbers in Redis's errors do not move.
///
/// Checked inside scripts: the undocumented commands of `UpstashCommandSurface` and module
/// commands other than JSON.*; with `allow-key-locking`, every key a command touches must be one of
/// the declared KEYS (found with the server's own `COMMAND GETKEYS`) and FLUSHALL/FLUSHDB are refused.
enum ScriptPrelude {
    /// Upstash's text for an undeclared key (redis/features/key-locking.mdx).
    static let dynamicKeyError = "ERR Dynamic keys are not allowed in Lua scripts when 'allow-key-locking' flag is set. Key was: "
    /// Upstash documents the refusal of FLUSHALL/FLUSHDB under the flag without its text: this one is ours.
    static let flushError = " is not allowed in Lua scripts when 'allow-key-locking' flag is set"
    /// The prefix of the refusal text of an undocumented command, shared with `CommandPolicy`.
    static let refusalPrefix = "ERR Command is not available: '"

    /// Errors the prelude raises: the gateway removes the ` script: …, on @user_script:N.` that
    /// Redis appends, so the client reads exactly the text Upstash sends.
    static let ownErrorPrefixes: [[UInt8]] = [
        Array(dynamicKeyError.utf8), Array(refusalPrefix.utf8), Array(("ERR FLUSHALL" + flushError).utf8),
        Array(("ERR FLUSHDB" + flushError).utf8),
    ]

    /// `{["SORT"]=true,…}`: the whole commands refused inside scripts.
    private static let denyTable: String = {
        let names = UpstashCommandSurface.undocumented.filter { $0.argument == nil && $0.subcommand == nil }.map(\.command)
        return "{" + names.map { "[\"\($0)\"]=true" }.joined(separator: ",") + "}"
    }()

    /// `{["FUNCTION"]={["DUMP"]=true},…}`: the subcommands refused inside scripts, by command, so the
    /// check reads a command's second argument only when it has one refused.
    private static let denySubTable: String = {
        let entries = UpstashCommandSurface.undocumented.filter { $0.argument == nil && $0.subcommand != nil }
        let byCommand = Dictionary(grouping: entries, by: \.command)
        return "{"
            + byCommand.keys.sorted().map { command in
                "[\"\(command)\"]={" + byCommand[command]!.map { "[\"\($0.subcommand!)\"]=true" }.joined(separator: ",") + "}"
            }.joined(separator: ",") + "}"
    }()

    /// `{GET=true,MSET={1,-1,2},…}`: where each command's keys sit when no argument moves them
    /// (`CommandTable.fixedKeyRanges`): `true` for one key right after the name (most commands, and
    /// no table to build), else triples of first, last, step in argv. With it the key check reads
    /// the keys itself; without an entry it asks the server with `COMMAND GETKEYS`, a call as dear
    /// as the command checked: the batch script of a binary cache's copy ran at half speed.
    static func keyRangeTable(_ ranges: [String: [CommandTable.FixedKeyRange]]) -> String {
        let isName = { (n: String) in n.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" } && !(n.first?.isNumber ?? true) }
        return "{"
            + ranges.keys.sorted().filter(isName).map { name in
                let r = ranges[name]!
                if r.count == 1 && r[0].first == 1 && r[0].last == 1 { return name + "=true" }
                return name + "={" + r.map { "\($0.first),\($0.last),\($0.step)" }.joined(separator: ",") + "}"
            }.joined(separator: ",") + "}"
    }

    /// `__upshift_check(...)`: nil when the command may run, else the error text. Reads `__upshift_r`
    /// (the real redis table), `__upshift_keys` (the declared keys as a set, nil without the flag) and
    /// `__upshift_kp` (`keyRangeTable`). It runs before every command a script sends, so it is
    /// written for the interpreter (callgrind, redis-server 7.0, a binary cache's batch script: the
    /// check cost 8,300 instructions a key, now about 4,000): a command's name is upper-cased and
    /// vetted once per script call (`__upshift_memo`), the first arguments are read without `select`,
    /// and a command's one key is looked up without copying its arguments into a table.
    private static let check = [
        "local __upshift_deny, __upshift_denysub, __upshift_memo = \(denyTable), \(denySubTable), {}",
        "local function __upshift_check(...)",
        " local a1, a2 = ...",
        " if a1 == nil then return nil end",
        " local name = __upshift_memo[a1]",
        " if name == nil then",
        "  name = string.upper(tostring(a1))",
        "  if __upshift_deny[name] or (string.find(name, '.', 1, true) and string.sub(name, 1, 5) ~= 'JSON.') then",
        "   return \"\(refusalPrefix)\" .. name .. \"' (Upstash does not document it)\" end",
        "  if type(a1) == 'string' then __upshift_memo[a1] = name end",
        " end",
        " local subs = __upshift_denysub[name]",
        " if subs and a2 ~= nil and subs[string.upper(tostring(a2))] then",
        "  return \"\(refusalPrefix)\" .. name .. \"' (Upstash does not document it)\" end",
        " if __upshift_keys == nil then return nil end",
        " if name == 'FLUSHALL' or name == 'FLUSHDB' then return 'ERR ' .. name .. \"\(flushError)\" end",
        " local kp = __upshift_kp[name]",
        " if kp == true then",
        "  if __upshift_keys[a2] then return nil end",
        " elseif kp then",
        "  local a, ok, argc = {...}, true, select('#', ...)",
        "  for s = 1, #kp, 3 do",
        "   local last = kp[s + 1] if last < 0 then last = argc + last end",
        "   for j = kp[s], last, kp[s + 2] do if not __upshift_keys[a[j + 1]] then ok = false break end end",
        "   if not ok then break end",
        "  end",
        // all declared: done; else the server's own answer decides, and names the key
        "  if ok then return nil end",
        " end",
        " local keys = __upshift_r.pcall('COMMAND', 'GETKEYS', ...)",
        " if type(keys) ~= 'table' or keys.err then return nil end",
        " for i = 1, #keys do if not __upshift_keys[keys[i]] then return \"\(dynamicKeyError)\" .. keys[i] end end",
        " return nil end",
    ].joined(separator: " ")

    private static let wrappers =
        "call = function(...) local e = __upshift_check(...) if e then return error({err = e}) end return __upshift_r.call(...) end, "
        + "pcall = function(...) local e = __upshift_check(...) if e then return {err = e} end return __upshift_r.pcall(...) end"

    /// The prelude of an EVAL script; `lockingKeys` when its shebang carried `allow-key-locking`, with
    /// `keyRanges` (`keyRangeTable`) to check most commands' keys without asking the server.
    static func forScript(lockingKeys: Bool, keyRanges: String = "{}") -> [UInt8] {
        let keys =
            lockingKeys
            ? "local __upshift_keys = {} for i = 1, #KEYS do __upshift_keys[KEYS[i]] = true end local __upshift_kp = \(keyRanges)"
            : "local __upshift_keys, __upshift_kp = nil, {}"
        let lua = [
            "local __upshift_r = redis", keys, check,
            "local redis = setmetatable({\(wrappers)}, {__index = __upshift_r}) ",
        ].joined(separator: " ")
        return Array(lua.utf8)
    }

    /// The prelude of a `FUNCTION LOAD` library. While a library loads, Lua sees a reduced `redis`
    /// (no `call`) and no `setmetatable` or `pairs`; its functions later run with the full one. So the
    /// shadowing table starts with what loading needs and is completed on the first call. It also
    /// takes Upstash's `allow-key-locking` out of `register_function{flags=…}` (Redis refuses unknown
    /// flags) and enforces it per call with the function's declared keys.
    static let forLibrary: [UInt8] = {
        let loadTimeFields = ["log", "LOG_DEBUG", "LOG_VERBOSE", "LOG_NOTICE", "LOG_WARNING", "REDIS_VERSION", "REDIS_VERSION_NUM"]
        let lua = [
            "local __upshift_global = function() return redis end",
            "local __upshift_load = redis",
            "local __upshift_r = nil",
            "local __upshift_keys = nil",
            "local __upshift_kp = {}",
            check,
            "local redis = {}",
            "local __upshift_ready = false",
            "local function __upshift_init() if __upshift_ready then return end __upshift_ready = true",
            " __upshift_r = __upshift_global() for k, v in pairs(__upshift_r) do redis[k] = v end",
            " local w = {\(wrappers)} redis.call = w.call redis.pcall = w.pcall end",
            "local function __upshift_wrap(f, lock) return function(keys, args) __upshift_init()",
            " if lock then __upshift_keys = {} for i = 1, #keys do __upshift_keys[keys[i]] = true end else __upshift_keys = nil end",
            " return f(keys, args) end end",
            "redis.register_function = function(a, b)",
            " if b ~= nil then return __upshift_load.register_function(a, __upshift_wrap(b, false)) end",
            " local lock, kept = false, {}",
            " if a.flags then for i = 1, #a.flags do if a.flags[i] == 'allow-key-locking' then lock = true else kept[#kept + 1] = a.flags[i] end end a.flags = kept end",
            " a.callback = __upshift_wrap(a.callback, lock) return __upshift_load.register_function(a) end",
            loadTimeFields.map { "redis.\($0) = __upshift_load.\($0)" }.joined(separator: " "),
            "",
        ].joined(separator: " ")
        return Array(lua.utf8)
    }()

    /// `script` with `prelude` at the start of its first body line: after a `#!` line, else at the very start.
    static func insert(_ prelude: [UInt8], into script: [UInt8]) -> [UInt8] {
        guard script.starts(with: [UInt8(ascii: "#"), UInt8(ascii: "!")]) else { return prelude + script }
        guard let newline = script.firstIndex(of: UInt8(ascii: "\n")) else { return script + [UInt8(ascii: "\n")] + prelude }
        return Array(script[...newline]) + prelude + Array(script[(newline + 1)...])
    }

    /// `code` without the library prelude, as the client loaded it (for `FUNCTION LIST WITHCODE`).
    static func remove(from code: [UInt8]) -> [UInt8] {
        let p = forLibrary
        guard code.count >= p.count else { return code }
        var i = 0
        while i + p.count <= code.count {
            if code[i] == p[0] && code[i..<(i + p.count)].elementsEqual(p) {
                return Array(code[..<i]) + Array(code[(i + p.count)...])
            }
            i += 1
        }
        return code
    }

    /// A script error without the ` script: …` suffix Redis appends, when the prelude raised it.
    static func ownError(_ text: [UInt8]) -> [UInt8]? {
        guard ownErrorPrefixes.contains(where: { text.starts(with: $0) }) else { return nil }
        let marker = Array(" script: ".utf8)
        var i = text.count - marker.count
        while i >= 0 {
            if text[i..<(i + marker.count)].elementsEqual(marker) { return Array(text[..<i]) }
            i -= 1
        }
        return text
    }
}
