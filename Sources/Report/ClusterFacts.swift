extension ServerFacts {
    /// One Redis Cluster's facts from its masters': memory, keys and command calls added up,
    /// the uptime chosen so that calls per second is the sum of the masters' rates.
    static func merged(_ nodes: [ServerFacts]) -> ServerFacts {
        guard var out = nodes.first else { return ServerFacts.empty }
        let rate = nodes.reduce(0.0) { $0 + Double($1.totalCalls) / Double(max(1, $1.uptimeSeconds)) }
        var calls: [String: Int] = [:]
        for node in nodes { for c in node.commands { calls[c.command, default: 0] += c.calls } }
        out.commands = calls.map { CommandUsage(command: $0.key, calls: $0.value) }.sorted {
            $0.calls != $1.calls ? $0.calls > $1.calls : $0.command < $1.command
        }
        let total = calls.values.reduce(0, +)
        out.uptimeSeconds = rate > 0 ? max(1, Int((Double(total) / rate).rounded())) : nodes.map(\.uptimeSeconds).min() ?? 0
        out.usedMemoryBytes = nodes.reduce(0) { $0 + $1.usedMemoryBytes }
        out.keyspace = [
            KeyspaceEntry(database: 0, keys: nodes.reduce(0) { $0 + $1.keys(0) }, expires: nodes.reduce(0) { $0 + $1.expires(0) })
        ]
        out.cachedScripts = nodes.map(\.cachedScripts).max() ?? 0
        return out
    }

    private func keys(_ db: Int) -> Int { keyspace.first { $0.database == db }?.keys ?? 0 }
    private func expires(_ db: Int) -> Int { keyspace.first { $0.database == db }?.expires ?? 0 }

    static let empty = ServerFacts(
        redisVersion: "unknown", uptimeSeconds: 0, usedMemoryBytes: 0, keyspace: [], commands: [], cachedScripts: 0, functionLibraries: [],
        modules: [])
}
