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
            // A key's operations go in order into calls sent in order, so they run in order.
            for op in w.ops {
                if case .simple(let items, let skip) = op {
                    for item in items { call.addSimple(item, skip: skip, owner: index, flush: &packed) }
                } else {
                    call.add(op, owners: [index], flush: &packed)
                }
            }
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
        /// Each declared key's place in KEYS (from 1, as Lua counts): an `M` operation names its keys by it.
        var keyIndex: [KeyBytes: Int] = [:]
        var keysPlain = true
        var jsonKeyBytes = 0
        var urlKeyBytes = 0
        var owners: [[Int]] = []
        var calls = 0
        /// The `M` operations being filled, one per kind (keys of one batch come in any order), and their keys.
        struct Pending {
            var batch: SimpleBatch
            var owners: [Int] = []
        }
        var simple: [SimpleWrite.Kind: Pending] = [:]

        init(sha: [UInt8], budget: Int, urlBudget: Int) {
            self.sha = sha
            self.budget = budget
            self.urlBudget = urlBudget
        }

        mutating func addSimple(_ item: SimpleWrite, skip: Bool, owner: Int, flush packed: inout ScriptCallPacker.Packed) {
            if let p = simple[item.kind], p.batch.skip != skip { closeSimple() }
            let plain = ScriptEscape.isPlain(item.value)
            let valueJSON = plain ? ScriptEscape.jsonLength(item.value) - 2 : 0
            let head = SimpleBatch.keyIndexDigits + SimpleBatch.lengthDigits + 1 + 20
            let blob = head + item.value.count
            let json = plain ? head + valueJSON : blob
            var index = keyIndex[KeyBytes(item.key)]
            if wouldOverflow(blob: blob, json: json, plain: plain, newKeys: index == nil ? [item.key] : []) {
                flush(into: &packed)
                index = nil
            }
            if index == nil { index = declare(item.key) }
            simple[item.kind, default: Pending(batch: SimpleBatch(kind: item.kind, skip: skip))].batch.add(
                item, keyIndex: index!, valueJSONBytes: plain ? valueJSON : nil)
            simple[item.kind]!.owners.append(owner)
        }

        mutating func add(_ op: WriteOp, owners opOwners: [Int], flush packed: inout ScriptCallPacker.Packed) {
            closeSimple()
            var opArgs = ScriptArguments()
            op.arguments(into: &opArgs)
            let newKeys = op.keys.filter { keyIndex[KeyBytes($0)] == nil }
            if wouldOverflow(blob: opArgs.blob.count, json: opArgs.jsonBytes, plain: opArgs.isPlain, newKeys: newKeys) {
                flush(into: &packed)
            }
            for k in op.keys where keyIndex[KeyBytes(k)] == nil { declare(k) }
            arguments.append(op: op.opcode, unit: opOwners[0], opArgs)
            owners.append(opOwners)
            calls += op.calls
        }

        /// True when arguments of `blob` bytes (`json` as a JSON string) with `newKeys` would take
        /// the call past the request or URL budget, or past the keys an `M` operation can index.
        private func wouldOverflow(blob more: Int, json moreJSON: Int, plain morePlain: Bool, newKeys: [[UInt8]]) -> Bool {
            guard !owners.isEmpty || !simple.isEmpty else { return false }
            var plain = keysPlain && arguments.isPlain && morePlain && newKeys.allSatisfy(ScriptEscape.isPlain)
            var pendingBlob = 0
            var pendingJSON = 0
            for p in simple.values {
                plain = plain && p.batch.isPlain
                pendingBlob += p.batch.blobBytes
                pendingJSON += p.batch.jsonBytes
            }
            let url = urlKeyBytes + newKeys.reduce(0) { $0 + Self.percentEncodedLength($1) + 1 }
            let json = jsonKeyBytes + newKeys.reduce(0) { $0 + ScriptEscape.jsonLength($1) + 1 }
            let body = plain ? arguments.jsonBytes + pendingJSON + moreJSON + json : arguments.blob.count + pendingBlob + more + 64
            return body > budget || (!plain && url > urlBudget) || keys.count + newKeys.count > SimpleBatch.maxKeyIndex
        }

        /// A key as a dictionary key, hashed as one run of bytes: `[UInt8]`'s own hashing feeds the
        /// hasher a byte at a time, which was 6 % of a binary cache's copy (perf, 30,000 keys).
        struct KeyBytes: Hashable {
            let bytes: [UInt8]
            init(_ bytes: [UInt8]) { self.bytes = bytes }
            func hash(into hasher: inout Hasher) { bytes.withUnsafeBytes { hasher.combine(bytes: $0) } }
        }

        /// Adds a key the call does not declare yet to its KEYS; its place there.
        @discardableResult
        private mutating func declare(_ k: [UInt8]) -> Int {
            keys.append(k)
            keyIndex[KeyBytes(k)] = keys.count
            keysPlain = keysPlain && ScriptEscape.isPlain(k)
            jsonKeyBytes += ScriptEscape.jsonLength(k) + 1
            urlKeyBytes += Self.percentEncodedLength(k) + 1
            return keys.count
        }

        /// Ends the `M` operations being filled: each joins the call as one operation.
        private mutating func closeSimple() {
            for kind in [SimpleWrite.Kind.set, .restore] {
                guard let p = simple[kind] else { continue }
                var opArgs = ScriptArguments()
                p.batch.arguments(into: &opArgs)
                arguments.append(op: "M", unit: p.owners[0], opArgs)
                owners.append(p.owners)
                calls += p.batch.calls
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
            keyIndex = [:]
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
