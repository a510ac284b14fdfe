import RESP

/// A command whose arguments are not UTF-8, rewritten so it can still travel in a JSON body: an
/// `EVAL` of a small script that restores the escaped arguments (`ScriptEscape`) and runs the
/// command, returning its reply unchanged (an error reply too, through `redis.pcall`).
///
/// Upstash bills it as two commands (the EVAL and the command) where the path form bills one,
/// but it stays in the `/pipeline` with its neighbours: one round trip for a batch of binary
/// writes instead of one per write, which is what matters 30–80 ms away from the database.
/// The script declares no keys (its keys are escaped, so they cannot be declared for Upstash's
/// key locking): Upstash runs it under its global lock, for the one command it holds.
enum EscapedCommand {
    /// Redis refuses these from a script (or runs them differently there): they keep the path form.
    static let notFromScripts: Set<String> = [
        "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO", "SCRIPT", "FUNCTION", "MULTI", "EXEC", "DISCARD",
        "WATCH", "UNWATCH", "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE", "AUTH",
        "HELLO", "CLIENT", "WAIT", "WAITAOF", "MONITOR", "SYNC", "PSYNC", "BLPOP", "BRPOP", "BRPOPLPUSH", "BLMOVE", "BLMPOP",
        "BZPOPMIN", "BZPOPMAX", "BZMPOP", "XREAD", "XREADGROUP", "QUIT", "RESET", "SHUTDOWN",
    ]

    /// Lua's `unpack` runs out of stack near 8,000 values: longer commands keep the path form.
    static let maxArguments = 7000

    static let script =
        ScriptEscape.luaUnescape + "\n"
            + """
            local flags, args = ARGV[1], {}
            for i = 2, #ARGV do
              if string.byte(flags, i - 1) == 49 then args[i - 1] = unescape(ARGV[i]) else args[i - 1] = ARGV[i] end
            end
            return redis.pcall(unpack(args))
            """

    /// The EVAL that runs `command`, or nil when it must keep the path form.
    static func wrap(_ command: RESPCommand) -> RESPCommand? {
        guard command.arguments.count <= maxArguments, !notFromScripts.contains(command.name) else { return nil }
        var flags: [UInt8] = []
        var args: [[UInt8]] = [Array("EVAL".utf8), Array(script.utf8), Array("0".utf8), []]
        args.reserveCapacity(command.arguments.count + 4)
        for a in command.arguments {
            if ScriptEscape.isPlain(a) {
                flags.append(UInt8(ascii: "0"))
                args.append(a)
            } else {
                flags.append(UInt8(ascii: "1"))
                args.append(ScriptEscape.escape(a))
            }
        }
        args[3] = flags
        var wrapped = RESPCommand(arguments: args)
        wrapped.scriptCalls = 1
        return wrapped
    }
}
