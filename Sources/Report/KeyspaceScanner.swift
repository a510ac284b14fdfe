import Keyspace
import RESP
import RedisClient

/// Reads one database page by page with SCAN, and learns each key's type, memory, expiry and
/// length with two pipelined round trips per page. Read-only: safe on a production source.
struct KeyspaceScanner: Sendable {
    /// A client whose URL selects the database.
    let backend: any Backend
    let database: Int
    /// The SCAN COUNT hint: keys per page.
    let scanCount: Int
    /// Stop after this many keys (a sample); nil scans everything.
    let limit: Int?

    /// How much of a string value is read to check it is UTF-8.
    static let valuePrefixBytes = 4096

    /// Feeds every key (or the first `limit`) of the database to the accumulator.
    func run(into census: inout CensusAccumulator, progress: (@Sendable (Int) -> Void)? = nil) async throws {
        var seen = 0
        for try await page in ScanSequence(backend: backend, options: ScanOptions(count: scanCount)) {
            var keys = page.keys
            if let limit { keys = Array(keys.prefix(max(0, limit - seen))) }
            if !keys.isEmpty {
                for observation in try await observe(keys) { census.add(observation) }
                seen += keys.count
                progress?(keys.count)
            }
            if let limit, seen >= limit { break }
        }
    }

    /// Probes a page of keys: TYPE, MEMORY USAGE and PTTL for all, then their lengths.
    func observe(_ keys: [[UInt8]]) async throws -> [KeyObservation] {
        var probes: [RESPCommand] = []
        probes.reserveCapacity(keys.count * 3)
        for key in keys {
            probes.append(RESPCommand("TYPE", key))
            probes.append(RESPCommand("MEMORY", "USAGE", key))
            probes.append(RESPCommand("PTTL", key))
        }
        let replies = try await backend.send(batch: probes)
        var observations: [KeyObservation] = []
        observations.reserveCapacity(keys.count)
        for (i, key) in keys.enumerated() {
            var type = KeyType(typeReply: replies[3 * i])
            let pttl = replies[3 * i + 2].integer ?? -1
            if pttl == -2 { type = .missing }
            let memory = replies[3 * i + 1].integer.map { Int($0) }
            observations.append(
                KeyObservation(
                    database: database, key: key, type: type, memoryBytes: memory, length: nil,
                    ttlMilliseconds: pttl >= 0 ? pttl : nil, valueIsUTF8: nil))
        }

        var lengths: [RESPCommand] = []
        var owners: [(index: Int, isPrefix: Bool)] = []
        for (i, o) in observations.enumerated() {
            guard let command = o.type.lengthCommand(o.key) else { continue }
            lengths.append(command)
            owners.append((i, false))
            if o.type == .string {
                lengths.append(RESPCommand("GETRANGE", o.key, 0, Self.valuePrefixBytes - 1))
                owners.append((i, true))
            }
        }
        guard !lengths.isEmpty else { return observations }
        let answers = try await backend.send(batch: lengths)
        for (owner, answer) in zip(owners, answers) where !answer.isError {
            if owner.isPrefix {
                guard let prefix = answer.bytes else { continue }
                let whole = (observations[owner.index].length ?? 0) <= prefix.count
                observations[owner.index].valueIsUTF8 = ByteText.isValidUTF8(prefix, allowTruncatedEnd: !whole)
            } else {
                observations[owner.index].length = answer.integer.map { Int($0) }
            }
        }
        return observations
    }
}
