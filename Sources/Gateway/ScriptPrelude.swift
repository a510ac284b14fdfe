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

    /// `{["SORT"]=true,…}`: the whole commands and subcommands refused inside scripts.
    private static let denyTable: String = {
        let names = UpstashCommandSurface.undocumented.filter { $0.argument == nil }.map { $0.description }
        return "{" + names.map { "[\"\($0)\"]=true" }.joined(separator: ",") + "}"
    }()

    /// `__upshift_check(...)`: nil when the command may run, else the error text. Reads `__upshift_r`
    /// (the real redis table) and `__upshift_keys` (the declared keys as a set, nil without the flag).
    private static let check = [
        "local __upshift_deny = \(denyTable)",
        "local function __upshift_check(...)",
        " if select('#', ...) == 0 then return nil end",
        " local name = string.upper(tostring((select(1, ...))))",
        " local sub = select('#', ...) > 1 and (name .. ' ' .. string.upper(tostring((select(2, ...))))) or name",
        " if __upshift_deny[name] or __upshift_deny[sub] or (string.find(name, '.', 1, true) and string.sub(name, 1, 5) ~= 'JSON.') then",
        "  return \"\(refusalPrefix)\" .. name .. \"' (Upstash does not document it)\" end",
        " if __upshift_keys == nil then return nil end",
        " if name == 'FLUSHALL' or name == 'FLUSHDB' then return 'ERR ' .. name .. \"\(flushError)\" end",
        " local keys = __upshift_r.pcall('COMMAND', 'GETKEYS', ...)",
        " if type(keys) ~= 'table' or keys.err then return nil end",
        " for i = 1, #keys do if not __upshift_keys[keys[i]] then return \"\(dynamicKeyError)\" .. keys[i] end end",
        " return nil end",
    ].joined(separator: " ")

    private static let wrappers =
        "call = function(...) local e = __upshift_check(...) if e then return error({err = e}) end return __upshift_r.call(...) end, "
        + "pcall = function(...) local e = __upshift_check(...) if e then return {err = e} end return __upshift_r.pcall(...) end"

    /// The prelude of an EVAL script; `lockingKeys` when its shebang carried `allow-key-locking`.
    static func forScript(lockingKeys: Bool) -> [UInt8] {
        let keys =
            lockingKeys
            ? "local __upshift_keys = {} for i = 1, #KEYS do __upshift_keys[KEYS[i]] = true end"
            : "local __upshift_keys = nil"
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
