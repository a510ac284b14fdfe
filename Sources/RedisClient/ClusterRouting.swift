import RESP

/// How one command is sent to a Redis Cluster: as parts (one per node or per slot), and how
/// their replies become the one reply the caller expects.
struct ClusterPlan: Sendable {
    /// Where a part goes.
    enum Target: Sendable, Hashable {
        /// The node that serves this slot (its master, or a replica for a read).
        case slot(Int, write: Bool)
        /// The node reading shard `index` (keyless commands that address every shard).
        case shard(Int)
        /// A master, for keyless commands any node can answer.
        case any
        /// Every node in use, masters and the replicas read from (SCRIPT LOAD, FLUSHALL).
        case all
    }

    /// How part replies combine.
    enum Merge: Sendable {
        /// One part: its reply.
        case single
        /// Parts each answer some key positions with an array: the arrays interleaved back into key order.
        case positions([[Int]])
        /// Integer replies added (EXISTS, DEL, UNLINK, TOUCH, DBSIZE).
        case sum
        /// Array replies concatenated (KEYS).
        case concat
        /// The same command on every node: the first error, else the first reply (SCRIPT LOAD, FLUSHALL).
        case first
        /// A SCAN of shard `shard`: its cursor rewritten into the cluster-wide cursor, which moves on
        /// to shard `next` (nil: the last) when this one is done.
        case scan(shard: Int, next: Int?)
    }

    var parts: [(RESPCommand, Target)]
    var merge: Merge

    /// Scripts (and MGET-like commands) whose reply has one element per key: upshift's batch scripts
    /// return one row per key, so a batch whose keys span slots is split by slot and put back together.
    static let perKeyArray: Set<String> = ["eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro", "mget"]
    /// Multi-key commands that count: their parts' integers add up.
    static let counting: Set<String> = ["exists", "del", "unlink", "touch"]

    /// The plan for `command` on a cluster of `shards` masters; SCAN visits the shards in `scanOrder` (all when empty).
    static func make(_ command: RESPCommand, table: CommandTable, shards: Int, scanOrder: [Int] = []) -> ClusterPlan {
        let args = command.arguments
        let name = String(decoding: args.first ?? [], as: UTF8.self).lowercased()
        let info = table.info(for: args)
        let write = info.map { $0.flags.contains("write") } ?? true
        var keyPositions: [Int]
        if perKeyArray.contains(name) && name != "mget" {
            let n = args.count > 2 ? Int(String(decoding: args[2], as: UTF8.self)) ?? 0 : 0
            keyPositions = n > 0 && args.count >= 3 + n ? Array(3..<(3 + n)) : []
        } else if name == "mget" || counting.contains(name) {
            keyPositions = Array(1..<max(1, args.count))
        } else {
            let keys = table.keys(in: args)
            keyPositions = keys.isEmpty ? [] : [args.firstIndex(of: keys[0]) ?? 1]
        }
        if let first = keyPositions.first {
            let slots = keyPositions.map { HashSlot.of(args[$0]) }
            let splittable = perKeyArray.contains(name) || counting.contains(name)
            guard splittable, Set(slots).count > 1 else {
                return ClusterPlan(parts: [(command, .slot(HashSlot.of(args[first]), write: write))], merge: .single)
            }
            var groups: [Int: [Int]] = [:]  // slot → indices into keyPositions
            var order: [Int] = []
            for (i, slot) in slots.enumerated() {
                if groups[slot] == nil { order.append(slot) }
                groups[slot, default: []].append(i)
            }
            var parts: [(RESPCommand, Target)] = []
            for slot in order {
                let members = groups[slot]!
                var part: [[UInt8]]
                if name == "mget" || counting.contains(name) {
                    part = [args[0]] + members.map { args[keyPositions[$0]] }
                } else {
                    part = [args[0], args[1], Array(String(members.count).utf8)] + members.map { args[keyPositions[$0]] }
                    part += args[(3 + keyPositions.count)...]
                }
                parts.append((RESPCommand(arguments: part), .slot(slot, write: write)))
            }
            let merge: Merge = counting.contains(name) ? .sum : .positions(order.map { groups[$0]! })
            return ClusterPlan(parts: parts, merge: merge)
        }
        let sub = args.count > 1 ? String(decoding: args[1], as: UTF8.self).lowercased() : ""
        let everyShard = (0..<shards).map { (command, Target.shard($0)) }
        switch name {
        case "scan":
            let order = scanOrder.isEmpty ? Array(0..<shards) : scanOrder
            var (shard, cursor) = parseCursor(args.count > 1 ? args[1] : Array("0".utf8))
            if !order.contains(shard) { shard = order.first { $0 > shard } ?? order[0] }
            var rewritten = args
            if rewritten.count > 1 { rewritten[1] = cursor }
            return ClusterPlan(
                parts: [(RESPCommand(arguments: rewritten), .shard(min(shard, shards - 1)))],
                merge: .scan(shard: shard, next: order.first { $0 > shard }))
        case "dbsize": return ClusterPlan(parts: everyShard, merge: .sum)
        case "keys": return ClusterPlan(parts: everyShard, merge: .concat)
        case "randomkey": return ClusterPlan(parts: [(command, .shard(Int.random(in: 0..<max(1, shards))))], merge: .single)
        case "flushall", "flushdb": return ClusterPlan(parts: [(command, .all)], merge: .first)
        case "script" where sub != "exists": return ClusterPlan(parts: [(command, .all)], merge: .first)
        case "function" where sub != "list" && sub != "dump": return ClusterPlan(parts: [(command, .all)], merge: .first)
        default: return ClusterPlan(parts: [(command, .any)], merge: .single)
        }
    }

    /// `shard:cursor` from a cluster-wide SCAN cursor; "0" starts at the first shard.
    static func parseCursor(_ bytes: [UInt8]) -> (Int, [UInt8]) {
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")), let shard = Int(String(decoding: bytes[..<colon], as: UTF8.self)) else {
            return (0, bytes)
        }
        return (shard, Array(bytes[(colon + 1)...]))
    }

    /// Puts the parts' replies together (in the order of `parts`).
    func combine(_ replies: [RESPValue]) -> RESPValue {
        if let error = replies.first(where: \.isError), case .first = merge { return error }
        switch merge {
        case .single, .first: return replies.first ?? .array(nil)
        case .sum:
            if let error = replies.first(where: \.isError) { return error }
            return .integer(replies.reduce(0) { $0 + ($1.integer ?? 0) })
        case .concat:
            if let error = replies.first(where: \.isError) { return error }
            return .array(replies.flatMap { $0.array ?? [] })
        case .positions(let groups):
            if let error = replies.first(where: \.isError) { return error }
            var out = [RESPValue](repeating: .null, count: groups.reduce(0) { $0 + $1.count })
            for (reply, members) in zip(replies, groups) {
                let rows = reply.array ?? []
                for (row, position) in zip(rows, members) { out[position] = row }
            }
            return .array(out)
        case .scan(let shard, let nextShard):
            guard let reply = replies.first, let parts = reply.array, parts.count == 2, let next = parts[0].bytes else {
                return replies.first ?? .array(nil)
            }
            let done = next == Array("0".utf8)
            let cursor: [UInt8] =
                !done ? Array("\(shard):".utf8) + next : nextShard.map { Array("\($0):0".utf8) } ?? Array("0".utf8)
            return .array([.bulkString(cursor), parts[1]])
        }
    }
}
