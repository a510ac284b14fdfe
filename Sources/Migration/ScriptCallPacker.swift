import RESP

/// The write script as loaded on the target: its digests with and without Upstash's key-locking flag.
struct LoadedWriteScript: Sendable {
    /// Digest of the flagged script; nil when the target refuses the flag (stock Redis).
    var keyLocking: [UInt8]?
    var plain: [UInt8]
}

/// Packs keys' writes into commands: plain `SET`s as they are, script operations into as few
/// `EVALSHA` calls as the request budget allows, so one call serves a whole batch of keys.
struct ScriptCallPacker {
    let script: LoadedWriteScript
    /// True for a REST target: arguments that are not UTF-8 travel escaped, and a call with an
    /// escaped key cannot declare it, so it runs without the key-locking flag.
    let escape: Bool
    let budget: Int

    /// The commands, and for each the index (into `writes`) of the key each of its results belongs to.
    struct Packed {
        var commands: [RESPCommand] = []
        /// For a plain command one entry; for a script call one per operation, in order.
        var owners: [[Int]] = []
    }

    func pack(_ writes: [KeyWrite]) -> Packed {
        var packed = Packed()
        var locked = Builder(sha: script.keyLocking ?? script.plain, declares: true, escape: escape, budget: budget)
        var open = Builder(sha: script.plain, declares: false, escape: escape, budget: budget)
        for (index, w) in writes.enumerated() {
            if let direct = w.direct {
                packed.commands.append(direct)
                packed.owners.append([index])
                continue
            }
            // A key's operations go into the same kind of call, in order, so they run in order.
            let declarable = !escape || w.ops.allSatisfy { $0.keys.allSatisfy(ScriptEscape.isPlain) }
            for op in w.ops {
                if declarable {
                    locked.add(op, owner: index, unit: index, flush: &packed)
                } else {
                    open.add(op, owner: index, unit: index, flush: &packed)
                }
            }
        }
        locked.flush(into: &packed)
        open.flush(into: &packed)
        return packed
    }

    /// One script call being filled.
    private struct Builder {
        let sha: [UInt8]
        let declares: Bool
        let escape: Bool
        let budget: Int
        var arguments = ScriptArguments()
        var keys: [[UInt8]] = []
        var keySet = Set<[UInt8]>()
        var keyBytes = 0
        var owners: [Int] = []
        var calls = 0

        init(sha: [UInt8], declares: Bool, escape: Bool, budget: Int) {
            self.sha = sha
            self.declares = declares
            self.escape = escape
            self.budget = budget
        }

        mutating func add(_ op: WriteOp, owner: Int, unit: Int, flush packed: inout ScriptCallPacker.Packed) {
            var opArgs = ScriptArguments()
            opArgs.append(op.opcode)
            opArgs.append(String(unit))
            opArgs.append("0")
            op.arguments(escape: escape, into: &opArgs)
            opArgs.set(2, String(opArgs.values.count - 3))
            let newKeys = declares ? op.keys.filter { !keySet.contains($0) } : []
            let newKeyBytes = newKeys.reduce(0) { $0 + ScriptEscape.jsonLength($1) + 1 }
            if !owners.isEmpty && arguments.jsonBytes + keyBytes + opArgs.jsonBytes + newKeyBytes > budget {
                flush(into: &packed)
            }
            for k in (declares ? op.keys : []) where keySet.insert(k).inserted {
                keys.append(k)
                keyBytes += ScriptEscape.jsonLength(k) + 1
            }
            arguments.append(contentsOf: opArgs)
            owners.append(owner)
            calls += op.calls
        }

        mutating func flush(into packed: inout ScriptCallPacker.Packed) {
            guard !owners.isEmpty else { return }
            var argv: [[UInt8]] = [Array("EVALSHA".utf8), sha, Array(String(keys.count).utf8)]
            argv.reserveCapacity(3 + keys.count + 1 + arguments.values.count)
            argv += keys
            argv.append(arguments.flags)
            argv += arguments.values
            var command = RESPCommand(arguments: argv)
            command.scriptCalls = calls
            packed.commands.append(command)
            packed.owners.append(owners)
            arguments = ScriptArguments()
            keys = []
            keySet = []
            keyBytes = 0
            owners = []
            calls = 0
        }
    }
}
