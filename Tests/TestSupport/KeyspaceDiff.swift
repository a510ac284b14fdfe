import Foundation
import RESP

/// A test's independent check that two servers hold the same keyspace: types, values and
/// absolute expiry, key by key, both directions. Loads whole values: for test-sized data only.
public func keyspaceDifferences(_ a: any Backend, _ b: any Backend, match: String = "*", ttlToleranceMs: Int64 = 1) async throws -> [String]
{
    let keysA = try await allKeys(a, match: match)
    let keysB = try await allKeys(b, match: match)
    var diffs: [String] = []
    for k in keysA.subtracting(keysB) { diffs.append("missing on target: \(printable(k))") }
    for k in keysB.subtracting(keysA) { diffs.append("extra on target: \(printable(k))") }
    for k in keysA.intersection(keysB) {
        let x = try await snapshot(a, k)
        let y = try await snapshot(b, k)
        if x.type != y.type {
            diffs.append("type of \(printable(k)): \(x.type) vs \(y.type)")
            continue
        }
        if x.value != y.value { diffs.append("value of \(printable(k)) (\(x.type)) differs") }
        if (x.expireAt < 0) != (y.expireAt < 0) || abs(x.expireAt - y.expireAt) > ttlToleranceMs {
            diffs.append("expiry of \(printable(k)): \(x.expireAt) vs \(y.expireAt)")
        }
    }
    return diffs.sorted()
}

/// Every key of a server, by SCAN.
public func allKeys(_ backend: any Backend, match: String = "*") async throws -> Set<[UInt8]> {
    var keys = Set<[UInt8]>()
    var cursor: [UInt8] = Array("0".utf8)
    repeat {
        let reply = try await backend.send(RESPCommand("SCAN", cursor, "MATCH", match, "COUNT", 1000))
        guard let parts = reply.array, parts.count == 2 else { throw TestSupportError("bad SCAN reply \(reply)") }
        cursor = parts[0].bytes ?? Array("0".utf8)
        for k in parts[1].array ?? [] { if let b = k.bytes { keys.insert(b) } }
    } while cursor != Array("0".utf8)
    return keys
}

struct KeySnapshot {
    var type: String
    var value: [RESPValue]
    var expireAt: Int64
}

func snapshot(_ backend: any Backend, _ key: [UInt8]) async throws -> KeySnapshot {
    let head = try await backend.send(batch: [RESPCommand("TYPE", key), RESPCommand("PEXPIRETIME", key), RESPCommand("PTTL", key)])
    let type = head[0].text ?? "?"
    // Redis 6.2 has no PEXPIRETIME: now + PTTL, to the millisecond at best (compare with a tolerance)
    let pttl = head[2].integer ?? -9
    let expireAt = head[1].isError ? (pttl < 0 ? pttl : Int64(Date().timeIntervalSince1970 * 1000) + pttl) : head[1].integer ?? -9
    let reads: [RESPCommand]
    switch type {
    case "string": reads = [RESPCommand("GET", key)]
    case "hash": reads = [RESPCommand("HGETALL", key)]
    case "list": reads = [RESPCommand("LRANGE", key, 0, -1)]
    case "set": reads = [RESPCommand("SMEMBERS", key)]
    case "zset": reads = [RESPCommand("ZRANGE", key, 0, -1, "WITHSCORES")]
    case "stream": reads = [RESPCommand("XRANGE", key, "-", "+"), RESPCommand("XINFO", "GROUPS", key), RESPCommand("XINFO", "STREAM", key)]
    case "ReJSON-RL": reads = [RESPCommand("JSON.GET", key)]
    default: reads = []
    }
    var values = try await backend.send(batch: reads)
    switch type {
    case "hash":
        // field order is not part of a hash's value
        let flat = values[0].array ?? []
        let pairs = stride(from: 0, to: flat.count - 1, by: 2).map { [flat[$0], flat[$0 + 1]] }
        values[0] = .array(pairs.sorted { lexicographic($0[0], $1[0]) }.flatMap { $0 })
    case "set":
        values[0] = .array((values[0].array ?? []).sorted { lexicographic($0, $1) })
    case "stream":
        // XINFO STREAM: keep the last id and length; the rest (radix tree sizes) is layout
        let info = values[2].array ?? []
        var kept: [RESPValue] = []
        var i = 0
        while i + 1 < info.count {
            if ["length", "last-generated-id", "groups"].contains(info[i].text ?? "") { kept += [info[i], info[i + 1]] }
            i += 2
        }
        values[2] = .array(kept)
        // Groups: name, last delivered id, pending and consumer counts (entries-read and lag are
        // Redis 7's, absent from 6.2), then each group's pending entries (id, owner, delivery
        // count: the idle time moves) and its consumers by name.
        var groups: [RESPValue] = []
        for g in values[1].array ?? [] {
            let f = g.array ?? []
            var name: [UInt8] = []
            var j = 0
            var summary: [RESPValue] = []
            while j + 1 < f.count {
                if f[j].text == "name" { name = f[j + 1].bytes ?? [] }
                if ["name", "last-delivered-id", "pending", "consumers"].contains(f[j].text ?? "") { summary += [f[j], f[j + 1]] }
                j += 2
            }
            let detail = try await backend.send(batch: [
                RESPCommand("XPENDING", key, name, "-", "+", 1_000_000), RESPCommand("XINFO", "CONSUMERS", key, name),
            ])
            let pending = (detail[0].array ?? []).map { e -> RESPValue in
                let a = e.array ?? []
                return .array(a.count == 4 ? [a[0], a[1], a[3]] : a)
            }
            let consumers = (detail[1].array ?? []).compactMap { c -> RESPValue? in
                let cf = c.array ?? []
                return stride(from: 0, to: cf.count - 1, by: 2).first { cf[$0].text == "name" }.map { cf[$0 + 1] }
            }.sorted { lexicographic($0, $1) }
            groups.append(.array([.array(summary), .array(pending), .array(consumers)]))
        }
        values[1] = .array(groups)
    default: break
    }
    return KeySnapshot(type: type, value: values, expireAt: expireAt)
}

func lexicographic(_ a: RESPValue, _ b: RESPValue) -> Bool {
    (a.bytes ?? []).lexicographicallyPrecedes(b.bytes ?? [])
}

func printable(_ key: [UInt8]) -> String {
    String(decoding: key, as: UTF8.self).debugDescription
}
