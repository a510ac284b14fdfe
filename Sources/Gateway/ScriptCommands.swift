import Crypto
import RESP
import UpstashProfile

/// EVAL, EVALSHA, SCRIPT and FUNCTION as Upstash runs them: Upstash-only shebang flags taken out
/// and, in strict mode, every script behind the `ScriptPrelude`, digests mapped both ways.
extension GatewayExecutor {
    private static let noScript: RESPValue = .error(Array("NOSCRIPT No matching script. Please use EVAL.".utf8))
    /// A digest no script has: SCRIPT EXISTS answers 0 for it.
    private static let missingDigest: [UInt8] = Array("0".utf8)

    func scriptStep(_ args: [[UInt8]], name: String, strict: Bool) async throws -> GatewayStep {
        guard args.count >= 2 else { return .send(Prepared(arguments: args)) }
        let sub = UpstashCompatibility.commandName([args[1]])
        switch name {
        case "EVAL", "EVAL_RO":
            guard let entry = rewritten(args[1], strict: strict) else { return .send(Prepared(arguments: args)) }
            var out = args
            out[1] = entry.rewritten
            return .send(
                Prepared(arguments: out, transform: .script(rewrittenDigest: entry.rewrittenDigest, clientDigest: entry.clientDigest)))
        case "EVALSHA", "EVALSHA_RO":
            guard let entry = scripts.entry(forClientDigest: args[1]) else {
                // In strict mode a script Redis holds unwrapped (loaded around the gateway) must not run:
                // NOSCRIPT makes the client send its text, which then gets the prelude.
                return strict ? .answer(Self.noScript) : .send(Prepared(arguments: args))
            }
            var out = args
            out[1] = entry.rewrittenDigest
            return .send(
                Prepared(arguments: out, transform: .script(rewrittenDigest: entry.rewrittenDigest, clientDigest: entry.clientDigest)))
        case "SCRIPT" where sub == "LOAD" && args.count == 3:
            guard let entry = rewritten(args[2], strict: strict) else { return .send(Prepared(arguments: args)) }
            return .send(Prepared(arguments: [args[0], args[1], entry.rewritten], transform: .clientDigest(entry.clientDigest)))
        case "SCRIPT" where sub == "EXISTS":
            var out = args
            for i in 2..<out.count {
                if let e = scripts.entry(forClientDigest: out[i]) {
                    out[i] = e.rewrittenDigest
                } else if strict {
                    out[i] = Self.missingDigest
                }
            }
            return .send(Prepared(arguments: out))
        case "FUNCTION" where strict && sub == "LOAD" && args.count >= 3:
            var out = args
            out[out.count - 1] = ScriptPrelude.insert(ScriptPrelude.forLibrary, into: args[args.count - 1])
            return .send(Prepared(arguments: out))
        case "FCALL", "FCALL_RO":
            // The prelude's refusals reach the client with Upstash's exact text.
            return .send(Prepared(arguments: args, transform: strict ? .script(rewrittenDigest: [], clientDigest: []) : .none))
        case "FUNCTION" where strict && sub == "LIST":
            return .send(Prepared(arguments: args, transform: .libraryCode))
        default:
            return .send(Prepared(arguments: args))
        }
    }

    /// The script as Redis is to run it, registered under the client's digest; nil when it goes unchanged
    /// (lenient mode, no Upstash-only flag).
    private func rewritten(_ script: [UInt8], strict: Bool) -> ScriptRegistry.Entry? {
        if let entry = scripts.entry(forText: script) { return entry }
        let stripped = ScriptRegistry.strip(script)
        guard strict || stripped != nil else { return nil }
        let body = stripped?.script ?? script
        let text = strict ? ScriptPrelude.insert(ScriptPrelude.forScript(lockingKeys: stripped?.lockingKeys ?? false), into: body) : body
        // Digested here, not by an EVAL of redis.sha1hex: a call of the gateway's own would show in the
        // target's commandstats, which the tests hold to Upstash's bill.
        let entry = ScriptRegistry.Entry(rewritten: text, rewrittenDigest: sha1Hex(text), clientDigest: sha1Hex(script))
        scripts.register(original: script, entry: entry)
        return entry
    }
}

/// The lowercase hex SHA-1 of `bytes`: the digest Redis names a script by.
func sha1Hex(_ bytes: [UInt8]) -> [UInt8] {
    let hex = Array("0123456789abcdef".utf8)
    return Insecure.SHA1.hash(data: bytes).flatMap { [hex[Int($0 >> 4)], hex[Int($0 & 0x0F)]] }
}
