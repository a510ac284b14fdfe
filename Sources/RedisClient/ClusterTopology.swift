import RESP

/// Which nodes of a Redis Cluster serve reads.
public enum ReadFrom: String, Sendable, CaseIterable {
    /// Every command goes to the master of its slot.
    case masters
    /// Reads go to a replica of the slot's master (READONLY), so a scan does not load the masters;
    /// writes are redirected to the master. A shard without a replica is read from its master.
    case replicas
}

/// The slot map of a Redis Cluster: which master (and replicas) serve which hash slots.
public struct ClusterTopology: Sendable, Hashable {
    /// A node's address as `CLUSTER SLOTS` gives it.
    public struct Node: Sendable, Hashable, CustomStringConvertible {
        /// As the cluster announces it (usually an IP address).
        public var host: String
        /// The client port (the TLS port for a TLS client of a `tls-cluster` cluster).
        public var port: Int
        /// `host:port`.
        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    /// One master, its slot ranges and its replicas.
    public struct Shard: Sendable, Hashable {
        /// The node that takes writes.
        public var master: Node
        /// Its replicas that `CLUSTER SLOTS` lists (those that have replicated something).
        public var replicas: [Node]
        /// The slot ranges it serves, in order.
        public var slots: [ClosedRange<Int>]
    }

    /// Ordered by their first slot, so an index names the same shard across runs of a stable cluster.
    public private(set) var shards: [Shard]
    /// The index in `shards` of each slot's owner; -1 for a slot nobody serves.
    private var owner: [Int16]

    /// Parses a `CLUSTER SLOTS` reply; an empty host means the node that answered (`seedHost`).
    public init(clusterSlots reply: RESPValue, seedHost: String) throws(RedisClientError) {
        guard let entries = reply.array else {
            throw RedisClientError(.protocolError, endpoint: seedHost, detail: "unexpected CLUSTER SLOTS reply: \(reply)")
        }
        func node(_ v: RESPValue) -> Node? {
            guard let a = v.array, a.count >= 2, let host = a[0].text, let port = a[1].integer else { return nil }
            return Node(host: host.isEmpty || host == "?" ? seedHost : host, port: Int(port))
        }
        var byMaster: [Node: Shard] = [:]
        for entry in entries {
            guard let e = entry.array, e.count >= 3, let start = e[0].integer, let end = e[1].integer, start <= end,
                let master = node(e[2])
            else {
                throw RedisClientError(.protocolError, endpoint: seedHost, detail: "unexpected CLUSTER SLOTS entry: \(entry)")
            }
            let replicas = e.dropFirst(3).compactMap(node)
            byMaster[master, default: Shard(master: master, replicas: replicas, slots: [])].slots.append(Int(start)...Int(end))
        }
        shards = byMaster.values.map { s in
            var s = s
            s.slots.sort { $0.lowerBound < $1.lowerBound }
            return s
        }.sorted { ($0.slots.first?.lowerBound ?? 0) < ($1.slots.first?.lowerBound ?? 0) }
        owner = Array(repeating: -1, count: HashSlot.count)
        for (i, shard) in shards.enumerated() {
            for range in shard.slots where range.upperBound < HashSlot.count { for slot in range { owner[slot] = Int16(i) } }
        }
    }

    /// The shard serving `slot`, nil when the cluster has no owner for it.
    public func shard(forSlot slot: Int) -> Int? {
        let i = owner[slot]
        return i < 0 ? nil : Int(i)
    }

    /// Slots no master serves (the cluster is down for their keys).
    public var uncoveredSlots: Int { owner.filter { $0 < 0 }.count }

    /// The node that serves reads of shard `index` under `readFrom`.
    public func reader(of index: Int, readFrom: ReadFrom) -> Node {
        let shard = shards[index]
        guard readFrom == .replicas, !shard.replicas.isEmpty else { return shard.master }
        return shard.replicas[0]
    }
}
