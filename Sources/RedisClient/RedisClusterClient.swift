import Logging
import NIOCore
import RESP

/// A Redis Cluster as one `Backend`: each command goes to the node serving its key's slot (a
/// replica for reads with `ReadFrom.replicas`), MOVED and ASK are followed, a batch whose keys
/// span slots is split by node and put back in order, and SCAN walks every shard in turn behind
/// one cursor (`shard:cursor`), so jobs written for one server read a whole cluster.
public actor RedisClusterClient: Backend {
    /// The node the topology was first read from; its login and TLS settings serve every node.
    public nonisolated let seed: RedisURL
    /// Where reads go.
    public nonisolated let readFrom: ReadFrom
    private let options: RedisConnectionOptions
    private let connectionsPerNode: Int
    private let logger: Logger
    private let table: CommandTable
    private var topology: ClusterTopology
    private var clients: [String: RedisClient] = [:]
    /// SCAN skips the masters that own none of these slots (a `--shard`'s range); nil scans every master.
    private var scanSlots: Range<Int>?

    /// The seed's URL, password removed.
    public nonisolated var displayName: String { seed.description }

    private init(
        seed: RedisURL, readFrom: ReadFrom, options: RedisConnectionOptions, connections: Int, logger: Logger, table: CommandTable,
        topology: ClusterTopology
    ) {
        self.seed = seed
        self.readFrom = readFrom
        self.options = options
        self.connectionsPerNode = connections
        self.logger = logger
        self.table = table
        self.topology = topology
    }

    /// True when the server at `url` runs in cluster mode (`INFO cluster`).
    public static func isCluster(_ url: RedisURL, options: RedisConnectionOptions = .init()) async throws(RedisClientError) -> Bool {
        let connection = try await RedisConnection.connect(to: url, options: options)
        let info = try? await connection.send(RESPCommand("INFO", "cluster"))
        await connection.close()
        return info?.text.flatMap { RedisInfo.field("cluster_enabled", in: $0) } == "1"
    }

    /// Connects to the seed node, reads the slot map and the command table.
    public static func connect(
        seed: RedisURL, readFrom: ReadFrom = .masters, connections: Int = 2, options: RedisConnectionOptions = .init(),
        logger: Logger = Logger(label: "upshift.redis.cluster")
    ) async throws -> RedisClusterClient {
        guard seed.database == 0 else {
            throw RedisClientError(.unsupported, endpoint: seed.endpoint, detail: "a Redis Cluster has only database 0")
        }
        let seedClient = RedisClient(url: seed, options: options, logger: logger)
        do {
            let topology = try ClusterTopology(
                clusterSlots: try await seedClient.send(RESPCommand("CLUSTER", "SLOTS")), seedHost: seed.host)
            let table = try await CommandTable.load(from: seedClient)
            await seedClient.close()
            if topology.shards.isEmpty {
                throw RedisClientError(.protocolError, endpoint: seed.endpoint, detail: "cluster mode is on but no slots are assigned")
            }
            if topology.uncoveredSlots > 0 {
                logger.warning("cluster has slots no master serves", metadata: ["slots": "\(topology.uncoveredSlots)"])
            }
            return RedisClusterClient(
                seed: seed, readFrom: readFrom, options: options, connections: connections, logger: logger, table: table, topology: topology
            )
        } catch {
            await seedClient.close()
            throw error
        }
    }

    /// The slot map in use.
    public var currentTopology: ClusterTopology { topology }

    /// Makes SCAN visit only the masters owning a slot in `slots` (nil: all): a shard of the keyspace
    /// then does not even list the keys of masters it has no slot on.
    public func restrictScan(to slots: Range<Int>?) {
        scanSlots = slots
    }

    private var scanOrder: [Int] {
        guard let scanSlots else { return [] }
        return topology.shards.indices.filter { i in topology.shards[i].slots.contains { $0.overlaps(scanSlots) } }
    }

    /// Sends each command to its node (all nodes at once, one pipelined batch each); replies in order.
    public func send(batch commands: [RESPCommand]) async throws -> [RESPValue] {
        // A MULTI … EXEC (or WATCH) batch must stay on one connection: all of it goes to the master
        // of its first key's slot, unsplit, and keys of other slots get the server's CROSSSLOT.
        if commands.contains(where: { ["MULTI", "EXEC", "WATCH"].contains($0.name.uppercased()) }) {
            return try await client(for: master(of: commands), replica: false).send(batch: commands)
        }
        let plans = commands.map { ClusterPlan.make($0, table: table, shards: topology.shards.count, scanOrder: scanOrder) }
        var parts: [(command: RESPCommand, node: ClusterTopology.Node, replica: Bool)] = []
        var owners: [Int] = []  // parts[i] belongs to plans[owners[i]]; `.all` parts may be several
        for (p, plan) in plans.enumerated() {
            for (command, target) in plan.parts {
                for (node, replica) in nodes(for: target) {
                    parts.append((command, node, replica))
                    owners.append(p)
                }
            }
        }
        var replies = try await sendGrouped(parts)
        for i in replies.indices {
            if case .error(let text) = replies[i], let redirect = Redirect(text) {
                replies[i] = try await follow(redirect, parts[i].command)
            }
        }
        var byPlan = [[RESPValue]](repeating: [], count: plans.count)
        for (reply, owner) in zip(replies, owners) { byPlan[owner].append(reply) }
        return zip(plans, byPlan).map { $0.combine($1) }
    }

    /// Sends one command to its node.
    public func send(_ command: RESPCommand) async throws -> RESPValue {
        try await send(batch: [command])[0]
    }

    /// MULTI/EXEC on the master of the first key's slot: a transaction's keys must share a slot.
    public func transaction(_ commands: [RESPCommand]) async throws -> RESPValue {
        try await client(for: master(of: commands), replica: false).transaction(commands)
    }

    /// The master of the first key's slot among `commands` (the first master when none has a key).
    private func master(of commands: [RESPCommand]) -> ClusterTopology.Node {
        let slot = commands.lazy.compactMap { self.table.keys(in: $0.arguments).first }.first.map(HashSlot.of) ?? 0
        return topology.shard(forSlot: slot).map { topology.shards[$0].master } ?? topology.shards[0].master
    }

    /// Closes every node's connections.
    public func close() async {
        for c in clients.values { await c.close() }
        clients = [:]
    }

    /// The nodes a part goes to: one, or every node in use for `.all`.
    private func nodes(for target: ClusterPlan.Target) -> [(ClusterTopology.Node, Bool)] {
        let shards = topology.shards
        guard !shards.isEmpty else { return [(ClusterTopology.Node(host: seed.host, port: seed.port), false)] }
        switch target {
        case .slot(let slot, let write):
            guard let i = topology.shard(forSlot: slot) else { return [(shards[0].master, false)] }
            return write ? [(shards[i].master, false)] : [reader(i)]
        case .shard(let i): return [reader(min(i, shards.count - 1))]
        case .any: return [(shards[0].master, false)]
        case .all:
            var out = shards.map { ($0.master, false) }
            if readFrom == .replicas { out += shards.indices.map(reader).filter(\.1) }
            return out
        }
    }

    private func reader(_ shard: Int) -> (ClusterTopology.Node, Bool) {
        let node = topology.reader(of: shard, readFrom: readFrom)
        return (node, node != topology.shards[shard].master)
    }

    /// Each node's parts as one pipelined batch, all nodes at once; replies in the parts' order.
    private func sendGrouped(_ parts: [(command: RESPCommand, node: ClusterTopology.Node, replica: Bool)]) async throws -> [RESPValue] {
        var groups: [String: (client: RedisClient, indices: [Int])] = [:]
        for (i, part) in parts.enumerated() {
            let key = Self.key(part.node, part.replica)
            if groups[key] == nil { groups[key] = (client(for: part.node, replica: part.replica), []) }
            groups[key]!.indices.append(i)
        }
        var replies = [RESPValue](repeating: .null, count: parts.count)
        try await withThrowingTaskGroup(of: ([Int], [RESPValue]).self) { group in
            for (_, g) in groups {
                let commands = g.indices.map { parts[$0].command }
                group.addTask { (g.indices, try await g.client.send(batch: commands)) }
            }
            for try await (indices, answers) in group {
                for (i, answer) in zip(indices, answers) { replies[i] = answer }
            }
        }
        return replies
    }

    /// Resends a command that got MOVED or ASK (or TRYAGAIN), a few hops at most.
    private func follow(_ first: Redirect, _ command: RESPCommand) async throws -> RESPValue {
        var redirect = first
        for _ in 0..<5 {
            let node = ClusterTopology.Node(host: redirect.host.isEmpty ? seed.host : redirect.host, port: redirect.port)
            let reply: RESPValue
            switch redirect.kind {
            case .moved:
                if topology.shard(forSlot: redirect.slot).map({ topology.shards[$0].master }) != node { await refreshTopology() }
                reply = try await client(for: node, replica: false).send(command)
            case .ask:
                reply = try await client(for: node, replica: false).send(batch: [RESPCommand("ASKING"), command])[1]
            case .tryAgain:
                try await Task.sleep(nanoseconds: 50_000_000)
                reply = try await send(command)
            }
            guard case .error(let text) = reply, let next = Redirect(text) else { return reply }
            redirect = next
        }
        throw RedisClientError(.protocolError, endpoint: seed.endpoint, detail: "too many cluster redirects for \(command.name)")
    }

    /// Reads the slot map again (after a MOVED to an unexpected node: a resharding or a failover).
    private func refreshTopology() async {
        for node in topology.shards.map(\.master) {
            guard let reply = try? await client(for: node, replica: false).send(RESPCommand("CLUSTER", "SLOTS")),
                let fresh = try? ClusterTopology(clusterSlots: reply, seedHost: node.host)
            else { continue }
            topology = fresh
            logger.info("cluster slot map refreshed", metadata: ["shards": "\(fresh.shards.count)"])
            return
        }
    }

    private static func key(_ node: ClusterTopology.Node, _ replica: Bool) -> String { "\(node)\(replica ? " ro" : "")" }

    /// The URL of one node: the seed's, with the node's address (same login and TLS settings;
    /// the certificate is checked against the seed's host name).
    public nonisolated func url(of node: ClusterTopology.Node) -> RedisURL {
        var url = seed
        url.address = .tcp(host: node.host, port: node.port)
        if var tls = url.tls, tls.serverName == nil {
            tls.serverName = tls.sniName(host: seed.host)
            url.tls = tls
        }
        return url
    }

    /// A client per node, logged in like the seed.
    private func client(for node: ClusterTopology.Node, replica: Bool) -> RedisClient {
        let key = Self.key(node, replica)
        if let c = clients[key] { return c }
        let url = url(of: node)
        var nodeOptions = options
        nodeOptions.readOnly = replica
        let c = RedisClient(url: url, connections: connectionsPerNode, options: nodeOptions, logger: logger)
        clients[key] = c
        return c
    }
}

/// A cluster's redirect reply: `MOVED 3999 10.0.0.2:6379`, `ASK 3999 10.0.0.3:6379`, `TRYAGAIN …`.
struct Redirect: Sendable, Hashable {
    enum Kind: Sendable { case moved, ask, tryAgain }
    let kind: Kind
    let slot: Int
    let host: String
    let port: Int

    init?(_ text: [UInt8]) {
        let words = String(decoding: text.prefix(200), as: UTF8.self).split(separator: " ")
        if words.first == "TRYAGAIN" {
            (kind, slot, host, port) = (.tryAgain, 0, "", 0)
            return
        }
        guard words.count >= 3, let slot = Int(words[1]), let colon = words[2].lastIndex(of: ":"),
            let port = Int(words[2][words[2].index(after: colon)...])
        else { return nil }
        switch words[0] {
        case "MOVED": kind = .moved
        case "ASK": kind = .ask
        default: return nil
        }
        self.slot = slot
        self.host = String(words[2][..<colon])
        self.port = port
    }
}

extension RedisURL {
    /// The TCP host ("" for a unix socket).
    var host: String {
        if case .tcp(let host, _) = address { return host }
        return ""
    }

    /// The TCP port (0 for a unix socket).
    var port: Int {
        if case .tcp(_, let port) = address { return port }
        return 0
    }
}
