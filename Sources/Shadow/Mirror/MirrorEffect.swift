import RESP

/// What the mirror side runs for a command the primary answered: the command itself when replaying
/// it has the same effect, otherwise the command that has the effect the primary's reply shows, as
/// Redis's own replication does. A blocking pop that returned `[key, value]` becomes the matching
/// non-blocking pop of that key (for a sorted set, ZREM of the members it returned); SPOP becomes
/// SREM of the members it returned; a relative expiry
/// becomes an absolute one; XREADGROUP loses its BLOCK.
struct MirrorEffect: Equatable {
    /// The command for the mirror side.
    var arguments: [[UInt8]]
    /// What the mirror answers when both sides hold the same data.
    var expected: RESPValue
    /// How to compare the two replies.
    var traits: CommandTraits
    /// An empty reply from the mirror may only mean the write it pops has not reached it yet
    /// (it came through another connection): try again shortly before calling it a divergence.
    var retryWhenEmpty = false

    /// Which rule of `of` a command follows, read from its name once (`CommandClassifier`): the
    /// switch over name strings it replaces was 2 % of the proxy's CPU on pipelined SETs (perf).
    enum Rule: Sendable, Equatable {
        case same, blpop, brpop, brpoplpush, blmove, bzpop, multiPop, xreadgroup, spop, expire, pexpire, setex, psetex, set, getex
        case restore, xadd

        init(name: String) {
            switch name {
            case "BLPOP": self = .blpop
            case "BRPOP": self = .brpop
            case "BRPOPLPUSH": self = .brpoplpush
            case "BLMOVE": self = .blmove
            case "BZPOPMIN", "BZPOPMAX": self = .bzpop
            case "BLMPOP", "LMPOP", "BZMPOP", "ZMPOP": self = .multiPop
            case "XREADGROUP": self = .xreadgroup
            case "SPOP": self = .spop
            case "EXPIRE": self = .expire
            case "PEXPIRE": self = .pexpire
            case "SETEX": self = .setex
            case "PSETEX": self = .psetex
            case "SET": self = .set
            case "GETEX": self = .getex
            case "RESTORE": self = .restore
            case "XADD": self = .xadd
            default: self = .same
            }
        }
    }

    /// The effect of `arguments` given the primary's `reply`, nil when nothing is to be mirrored
    /// (a blocking pop that timed out, a script the primary's SCRIPT KILL stopped, an empty SPOP).
    /// `nowMs` is the wall clock (Unix milliseconds) when the primary answered.
    static func of(_ arguments: [[UInt8]], traits: CommandTraits, reply: RESPValue, nowMs: Int64) -> MirrorEffect? {
        var same = MirrorEffect(arguments: arguments, expected: reply, traits: traits)
        if reply.isError {
            // A killed script wrote nothing (SCRIPT KILL refuses scripts that did): replaying it would run it again.
            if traits.isScript, let text = reply.errorText, contains(text, "killed by user") { return nil }
            // A refused pop took nothing; sent as it is it would block the mirror's connection.
            if traits.blockingPop || traits.effect == .xreadgroup { return nil }
            return same
        }
        let rule = traits.effect
        switch rule {
        case .same:
            return same
        case .blpop, .brpop:
            guard case .array(let pair?) = reply, pair.count == 2, let key = pair[0].bytes else { return nil }
            return pop([Array((rule == .blpop ? "LPOP" : "RPOP").utf8), key], expected: pair[1], traits)
        case .brpoplpush:
            guard arguments.count == 4, !reply.isNull else { return nil }
            return pop([Array("RPOPLPUSH".utf8), arguments[1], arguments[2]], expected: reply, traits)
        case .blmove:
            guard arguments.count == 6, !reply.isNull else { return nil }
            return pop([Array("LMOVE".utf8)] + arguments[1...4], expected: reply, traits)
        case .bzpop:
            // ZREM of the member the primary popped, not ZPOPMIN: a ZADD through another connection
            // may reach the mirror later, and the mirror's lowest member need not be the one popped.
            guard case .array(let triple?) = reply, triple.count == 3, let key = triple[0].bytes, let member = triple[1].bytes else {
                return nil
            }
            return Self.pop([Array("ZREM".utf8), key, member], expected: .integer(1), traits)
        case .multiPop:
            return multiPop(arguments, name: traits.name, reply: reply, traits)
        case .xreadgroup:
            guard !reply.isNull else { return nil }
            var args = arguments
            if let i = args.firstIndex(where: { ShadowEngine.isName($0, "BLOCK") }), i + 1 < args.count, i < streamsIndex(args) {
                args.removeSubrange(i...(i + 1))
                same.retryWhenEmpty = true
            }
            same.arguments = args
            return same
        case .spop:
            guard arguments.count >= 2 else { return same }
            let members: [RESPValue] = reply.array ?? (reply.isNull ? [] : [reply])
            let bytes = members.compactMap(\.bytes)
            guard !bytes.isEmpty, bytes.count == members.count else { return nil }
            var t = traits
            t.nondeterministic = false
            return MirrorEffect(arguments: [Array("SREM".utf8), arguments[1]] + bytes, expected: .integer(Int64(bytes.count)), traits: t)
        case .expire, .pexpire:
            guard arguments.count >= 3, let n = integer(arguments[2]) else { return same }
            let unit: Int64 = rule == .expire ? 1000 : 1
            guard let at = absolute(nowMs, n, unit) else { return same }
            same.arguments = [Array("PEXPIREAT".utf8), arguments[1], Array(String(at).utf8)] + arguments.dropFirst(3)
            return same
        case .setex, .psetex:
            guard arguments.count == 4, let n = integer(arguments[2]), let at = absolute(nowMs, n, rule == .setex ? 1000 : 1) else {
                return same
            }
            same.arguments = [Array("SET".utf8), arguments[1], arguments[3], Array("PXAT".utf8), Array(String(at).utf8)]
            return same
        case .set, .getex:
            let first = rule == .set ? 3 : 2
            guard arguments.count > first + 1 else { return same }
            var args = arguments
            for i in first..<(args.count - 1) {
                let unit: Int64
                if ShadowEngine.isName(args[i], "EX") {
                    unit = 1000
                } else if ShadowEngine.isName(args[i], "PX") {
                    unit = 1
                } else {
                    continue
                }
                guard let n = integer(args[i + 1]), let at = absolute(nowMs, n, unit) else { return same }
                args[i] = Array("PXAT".utf8)
                args[i + 1] = Array(String(at).utf8)
                break
            }
            same.arguments = args
            return same
        case .restore:
            guard arguments.count >= 4, let ttl = integer(arguments[2]), ttl > 0,
                !arguments.dropFirst(4).contains(where: { ShadowEngine.isName($0, "ABSTTL") }), let at = absolute(nowMs, ttl, 1)
            else { return same }
            same.arguments[2] = Array(String(at).utf8)
            same.arguments.append(Array("ABSTTL".utf8))
            return same
        case .xadd:
            // XADD * lets each server pick its own id: give the mirror the id the primary chose.
            if case .bulkString(let id?) = reply, let star = arguments.indices.dropFirst(2).first(where: { arguments[$0] == [42] }) {
                same.arguments[star] = id
            }
            return same
        }
    }

    private static func pop(_ arguments: [[UInt8]], expected: RESPValue, _ traits: CommandTraits) -> MirrorEffect {
        var t = traits
        t.nondeterministic = false
        return MirrorEffect(arguments: arguments, expected: expected, traits: t, retryWhenEmpty: true)
    }

    /// [B]LMPOP and [B]ZMPOP answer `[key, elements]`: the same count popped from that key.
    private static func multiPop(_ arguments: [[UInt8]], name: String, reply: RESPValue, _ traits: CommandTraits) -> MirrorEffect? {
        guard case .array(let pair?) = reply, pair.count == 2, let key = pair[0].bytes, let popped = pair[1].array, !popped.isEmpty
        else { return nil }
        let list = name.hasSuffix("LMPOP")
        guard list else {
            // a sorted set's popped members, removed by name (see BZPOPMIN)
            let members = popped.compactMap { $0.array?.first?.bytes }
            guard members.count == popped.count else { return nil }
            return Self.pop([Array("ZREM".utf8), key] + members, expected: .integer(Int64(members.count)), traits)
        }
        let left = arguments.contains { ShadowEngine.isName($0, "LEFT") }
        return Self.pop(
            [Array((left ? "LPOP" : "RPOP").utf8), key, Array(String(popped.count).utf8)], expected: .array(popped), traits)
    }

    private static func streamsIndex(_ args: [[UInt8]]) -> Int {
        args.firstIndex(where: { ShadowEngine.isName($0, "STREAMS") }) ?? args.count
    }

    private static func absolute(_ now: Int64, _ n: Int64, _ unit: Int64) -> Int64? {
        let (ms, o1) = n.multipliedReportingOverflow(by: unit)
        let (at, o2) = now.addingReportingOverflow(ms)
        return o1 || o2 ? nil : at
    }

    private static func integer(_ bytes: [UInt8]) -> Int64? {
        RedisInteger.parse(bytes)
    }

    private static func contains(_ text: [UInt8], _ needle: String) -> Bool {
        let n = Array(needle.utf8)
        guard text.count >= n.count else { return false }
        return (0...(text.count - n.count)).contains { i in text[i..<(i + n.count)].elementsEqual(n) }
    }
}
