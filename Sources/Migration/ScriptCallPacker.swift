import RESP

/// The write script as loaded on the target: its digests with and without Upstash's key-locking flag.
struct LoadedWriteScript: Sendable {
    /// Digest of the flagged script; nil when the target refuses the flag (stock Redis).
    var keyLocking: [UInt8]?
    var plain: [UInt8]
}

/// Packs keys' writes into commands: plain `SET`s as they are, script operations into as few
/// `EVALSHA` calls as the request budget allows, so one call serves a whole batch of keys; keys
/// written by one command each (a binary string's SET, a RESTORE) share one `M` operation.
struct ScriptCallPacker {
    let script: LoadedWriteScript
    /// The most bytes one call's arguments may take in a request.
    let budget: Int
    /// The most bytes its declared keys may take percent-encoded in a URL: a call whose blob is not
    /// UTF-8 travels in the REST path form, keys in the path (the client allows 16 KB).
    let urlBudget = 12 * 1024

    /// The commands, and for each the keys (indexes into `writes`) each of its results belongs to.
    struct Packed {
        var commands: [RESPCommand] = []
        /// Per command, one entry per result: the key of a plain command or an operation, or the
        /// keys of an `M` operation (its result has one character per key).
        var owners: [[[Int]]] = []
    }

    func pack(_ writes: [KeyWrite]) -> Packed {
        var packed = Packed()
        var call = Builder(sha: script.keyLocking ?? script.plain, budget: budget, urlBudget: urlBudget)
        for (index, w) in writes.enumerated() {
            if let direct = w.direct {
                packed.commands.append(direct)
                packed.owners.append([[index]])
                continue
            }
            if w.ops.count == 1, case .simple(let items, let skip) = w.ops[0], items.count == 1 {
                call.addSimple(items[0], skip: skip, owner: index, flush: &packed)
                continue
            }
            // A key's operations go in order into calls sent in order, so they run in order.
            for op in w.ops { call.add(op, owners: [index], flush: &packed) }
        }
        call.flush(into: &packed)
        return packed
    }

    /// One script call being filled.
    private struct Builder {
        let sha: [UInt8]
        let budget: Int
        let urlBudget: Int
        var arguments = ScriptArguments()
        var keys: [[UInt8]] = []
        var keySet = Set<[UInt8]>()
        var keysPlain = true
        var jsonKeyBytes = 0
        var urlKeyBytes = 0
        var owners: [[Int]] = []
        var calls = 0
        /// The `M` operations being filled, one per kind (keys of one batch come in any order).
        struct Pending {
            var count = 0
            var skip = false
            var owners: [Int] = []
            var args = ScriptArguments()
        }
        var simple: [SimpleWrite.Kind: Pending] = [:]

        init(sha: [UInt8], budget: Int, urlBudget: Int) {
            self.sha = sha
            self.budget = budget
            self.urlBudget = urlBudget
        }

        mutating func addSimple(_ item: SimpleWrite, skip: Bool, owner: Int, flush packed: inout ScriptCallPacker.Packed) {
            if let p = simple[item.kind], p.skip != skip { closeSimple() }
            var itemArgs = ScriptArguments()
            let op = WriteOp.simple([item], skip: skip)
            op.itemArguments(into: &itemArgs)
            if wouldOverflow(itemArgs, keys: op.keys) { flush(into: &packed) }
            take(op.keys)
            simple[item.kind, default: Pending()].count += 1
            simple[item.kind]!.skip = skip
            simple[item.kind]!.owners.append(owner)
            simple[item.kind]!.args.append(contentsOf: itemArgs)
            calls += op.calls
        }

        mutating func add(_ op: WriteOp, owners opOwners: [Int], flush packed: inout ScriptCallPacker.Packed) {
            closeSimple()
            var opArgs = ScriptArguments()
            op.arguments(into: &opArgs)
            if wouldOverflow(opArgs, keys: op.keys) { flush(into: &packed) }
            take(op.keys)
            arguments.append(op: op.opcode, unit: opOwners[0], opArgs)
            owners.append(opOwners)
            calls += op.calls
        }

        /// True when `more` with `newKeys` would take the call past the request or URL budget.
        private func wouldOverflow(_ more: ScriptArguments, keys opKeys: [[UInt8]]) -> Bool {
            guard !owners.isEmpty || !simple.isEmpty else { return false }
            let newKeys = opKeys.filter { !keySet.contains($0) }
            let pending = simple.values.map(\.args)
            let plain =
                keysPlain && arguments.isPlain && pending.allSatisfy(\.isPlain) && more.isPlain && newKeys.allSatisfy(ScriptEscape.isPlain)
            let url = urlKeyBytes + newKeys.reduce(0) { $0 + Self.percentEncodedLength($1) + 1 }
            let json = jsonKeyBytes + newKeys.reduce(0) { $0 + ScriptEscape.jsonLength($1) + 1 }
            let body =
                plain
                ? arguments.jsonBytes + pending.reduce(0) { $0 + $1.jsonBytes } + more.jsonBytes + json
                : arguments.blob.count + pending.reduce(0) { $0 + $1.blob.count } + more.blob.count + 64
            return body > budget || (!plain && url > urlBudget)
        }

        private mutating func take(_ opKeys: [[UInt8]]) {
            for k in opKeys where keySet.insert(k).inserted {
                keys.append(k)
                keysPlain = keysPlain && ScriptEscape.isPlain(k)
                jsonKeyBytes += ScriptEscape.jsonLength(k) + 1
                urlKeyBytes += Self.percentEncodedLength(k) + 1
            }
        }

        /// Ends the `M` operations being filled: each joins the call as one operation.
        private mutating func closeSimple() {
            for kind in [SimpleWrite.Kind.set, .restore] {
                guard let p = simple[kind] else { continue }
                var opArgs = ScriptArguments()
                opArgs.append(p.skip ? "s" : "r")
                opArgs.append(String(p.count))
                opArgs.append(kind.rawValue)
                opArgs.append(contentsOf: p.args)
                arguments.append(op: "M", unit: p.owners[0], opArgs)
                owners.append(p.owners)
            }
            simple = [:]
        }

        mutating func flush(into packed: inout ScriptCallPacker.Packed) {
            closeSimple()
            guard !owners.isEmpty else { return }
            var argv: [[UInt8]] = [Array("EVALSHA".utf8), sha, Array(String(keys.count).utf8)]
            argv.reserveCapacity(4 + keys.count)
            argv += keys
            argv.append(arguments.blob)
            var command = RESPCommand(arguments: argv)
            command.scriptCalls = calls
            packed.commands.append(command)
            packed.owners.append(owners)
            arguments = ScriptArguments()
            keys = []
            keySet = []
            keysPlain = true
            jsonKeyBytes = 0
            urlKeyBytes = 0
            owners = []
            calls = 0
        }

        /// A path segment's length: `A–Z a–z 0–9 - _ ~` as they are, every other byte as `%XX`.
        static func percentEncodedLength(_ key: [UInt8]) -> Int {
            key.reduce(0) { n, b in
                let unreserved =
                    (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x2D || b == 0x5F || b == 0x7E
                return n + (unreserved ? 1 : 3)
            }
        }
    }
}
