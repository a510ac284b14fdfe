import Foundation
import RESP
import RedisClient

/// A throwaway Redis Cluster: `masters` masters with `replicasPerMaster` replicas each, real
/// `redis-server --cluster-enabled yes` processes joined by `redis-cli --cluster create`; with
/// `tls`, every node (and the cluster bus) speaks TLS only.
public final class RedisCluster: Sendable {
    public let nodes: [RedisServer]

    /// Starts the nodes, creates the cluster and waits until every node says it is ok and every replica is in sync.
    public init(masters: Int = 3, replicasPerMaster: Int = 0, tls: TLSCertificates? = nil) async throws {
        var started: [RedisServer] = []
        do {
            for _ in 0..<(masters * (1 + replicasPerMaster)) {
                let bus = try freePort()
                started.append(
                    try await RedisServer(
                        arguments: [
                            "--cluster-enabled", "yes", "--cluster-port", "\(bus)", "--cluster-node-timeout", "5000",
                            "--cluster-require-full-coverage", "yes",
                        ] + (tls == nil ? [] : ["--tls-cluster", "yes", "--tls-replication", "yes"]), tls: tls))
            }
            nodes = started
            let create = Process()
            create.executableURL = URL(fileURLWithPath: try which("redis-cli"))
            create.arguments =
                ["--cluster", "create"] + started.map { "127.0.0.1:\($0.port)" } + [
                    "--cluster-replicas", "\(replicasPerMaster)", "--cluster-yes",
                ] + (tls.map { ["--tls", "--cacert", $0.caFile] } ?? [])
            create.standardOutput = FileHandle.nullDevice
            create.standardError = FileHandle.nullDevice
            try create.run()
            create.waitUntilExit()
            guard create.terminationStatus == 0 else { throw TestSupportError("redis-cli --cluster create failed") }
            try await waitUntilReady(replicas: masters * replicasPerMaster)
        } catch {
            for s in started { s.stop() }
            throw error
        }
    }

    /// A seed URL (any node will do).
    public var url: String { nodes[0].url }

    /// Stops every node.
    public func stop() { for n in nodes { n.stop() } }

    /// The nodes that are masters (or replicas) right now, by `ROLE`.
    public func nodes(role: String) async throws -> [RedisServer] {
        var out: [RedisServer] = []
        for n in nodes {
            let c = try n.client()
            if try await c.send(RESPCommand("ROLE")).array?.first?.text == role { out.append(n) }
            await c.close()
        }
        return out
    }

    private func waitUntilReady(replicas: Int) async throws {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            var ok = true
            var linked = 0
            for n in nodes {
                let c = try n.client()
                let info = try await c.send(batch: [RESPCommand("CLUSTER", "INFO"), RESPCommand("INFO", "replication")])
                await c.close()
                if info[0].text.flatMap({ RedisInfo.field("cluster_state", in: $0) }) != "ok" { ok = false }
                if info[1].text.flatMap({ RedisInfo.field("master_link_status", in: $0) }) == "up" { linked += 1 }
            }
            if ok && linked == replicas {
                if replicas == 0 { return }
                // CLUSTER SLOTS lists a replica only once it has replicated something: write, delete, wait for it.
                let client = try await RedisClusterClient.connect(seed: RedisURL(url))
                let keys = (0..<64).map { "upshift-ready:\($0)" }
                _ = try await client.send(batch: keys.map { RESPCommand("SET", $0, "1") } + keys.map { RESPCommand("DEL", $0) })
                await client.close()
                while Date() < deadline {
                    let c = try nodes[0].client()
                    let slots = try await c.send(RESPCommand("CLUSTER", "SLOTS")).array ?? []
                    await c.close()
                    if slots.reduce(0, { $0 + max(0, ($1.array?.count ?? 0) - 3) }) == replicas { return }
                    try await Task.sleep(nanoseconds: 100_000_000)
                }
                break
            }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        throw TestSupportError("the cluster did not become ok within 30 s")
    }
}

/// Runs `body` with a fresh cluster and stops it afterwards, also when `body` throws.
public func withRedisCluster<T>(
    masters: Int = 3, replicasPerMaster: Int = 0, tls: TLSCertificates? = nil, _ body: (RedisCluster) async throws -> T
) async throws -> T {
    let cluster = try await RedisCluster(masters: masters, replicasPerMaster: replicasPerMaster, tls: tls)
    defer { cluster.stop() }
    return try await body(cluster)
}
