import Foundation
import RESP

/// The scenarios only concurrency shows, parameterised from YAML with `kind:` and `with:`.
enum BuiltInScenarios {
    static let kinds = ["rate-limit", "lock", "queue", "sessions"]

    /// Runs a built-in kind; returns a one-line account, throws `ScenarioFailure` when it does not hold.
    static func run(_ kind: String, parameters: [String: String], backend: any Backend, prefix: String) async throws -> String {
        let p = Parameters(values: parameters)
        switch kind {
        case "rate-limit": return try await rateLimit(p, backend, prefix)
        case "lock": return try await lock(p, backend, prefix)
        case "queue": return try await queue(p, backend, prefix)
        case "sessions": return try await sessions(p, backend, prefix)
        default: throw ScenarioFailure(message: "unknown built-in kind '\(kind)': one of \(kinds.joined(separator: ", "))")
        }
    }

    struct Parameters {
        let values: [String: String]
        func int(_ name: String, _ fallback: Int) -> Int { values[name].flatMap { Int($0) } ?? fallback }
        func string(_ name: String, _ fallback: String) -> String { values[name] ?? fallback }
    }

    // MARK: rate limiting

    static let fixedWindow = """
        local n = redis.call('INCR', KEYS[1])
        if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
        if n <= tonumber(ARGV[2]) then return 1 else return 0 end
        """
    static let slidingWindow = """
        local window, limit, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
        local current = math.floor(now / window)
        local ck, pk = KEYS[1] .. ':' .. current, KEYS[1] .. ':' .. (current - 1)
        local prev = tonumber(redis.call('GET', pk) or '0')
        local cur = tonumber(redis.call('GET', ck) or '0')
        local weight = 1 - ((now % window) / window)
        if cur + math.floor(prev * weight) >= limit then return 0 end
        redis.call('INCR', ck)
        redis.call('PEXPIRE', ck, window * 2)
        return 1
        """
    static let tokenBucket = """
        local capacity, refillMs, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
        local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
        local tokens, at = tonumber(state[1] or capacity), tonumber(state[2] or now)
        tokens = math.min(capacity, tokens + math.max(0, math.floor((now - at) / refillMs)))
        if tokens > 0 then
          redis.call('HSET', KEYS[1], 'tokens', tokens - 1, 'at', math.max(now, at))
          redis.call('PEXPIRE', KEYS[1], refillMs * capacity)
          return 1
        end
        return 0
        """

    /// N clients making M requests each against a limit L: exactly L are allowed.
    static func rateLimit(_ p: Parameters, _ backend: any Backend, _ prefix: String) async throws -> String {
        let algorithm = p.string("algorithm", "fixed-window")
        let clients = p.int("clients", 8)
        let requests = p.int("requests", 20)
        let limit = p.int("limit", 50)
        let windowMs = p.int("window_ms", 60_000)
        let style = p.string("style", "eval")
        var script: String
        switch algorithm {
        case "fixed-window": script = fixedWindow
        case "sliding-window": script = slidingWindow
        case "token-bucket": script = tokenBucket
        default: throw ScenarioFailure(message: "unknown algorithm '\(algorithm)'")
        }
        if style == "upstash" { script = "#!lua flags=allow-key-locking\n" + script }
        var sha: [UInt8]? = nil
        if style == "evalsha" {
            // Start from an empty script cache so the NOSCRIPT fallback is exercised too.
            let reply = try await backend.send(RESPCommand("EVALSHA", String(repeating: "0", count: 40), 0))
            guard reply.text?.hasPrefix("NOSCRIPT") == true else {
                throw ScenarioFailure(message: "unknown digest did not give NOSCRIPT: \(reply)")
            }
            sha = try await backend.send(RESPCommand("SCRIPT", "LOAD", script)).bytes
        }
        let key = prefix + "limit"
        let body = script
        let digest = sha
        let allowed = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<clients {
                group.addTask {
                    var ok = 0
                    for _ in 0..<requests {
                        let now = Int64(Date().timeIntervalSince1970 * 1000)
                        let args: [any RESPArgumentConvertible] =
                            algorithm == "fixed-window"
                            ? [windowMs, limit] : algorithm == "sliding-window" ? [windowMs, limit, now] : [limit, windowMs, now]
                        var reply: RESPValue
                        if let digest {
                            reply = try await backend.send(RESPCommand("EVALSHA", arguments: [digest, 1, key] + args))
                            if reply.text?.hasPrefix("NOSCRIPT") == true {
                                reply = try await backend.send(RESPCommand("EVAL", arguments: [body, 1, key] + args))
                            }
                        } else {
                            reply = try await backend.send(RESPCommand("EVAL", arguments: [body, 1, key] + args))
                        }
                        if case .error = reply { throw ScenarioFailure(message: "script failed: \(reply)") }
                        if reply == .integer(1) { ok += 1 }
                    }
                    return ok
                }
            }
            return try await group.reduce(0, +)
        }
        guard allowed == min(limit, clients * requests) else {
            throw ScenarioFailure(message: "\(algorithm): \(allowed) of \(clients * requests) requests allowed, the limit is \(limit)")
        }
        return "\(algorithm) (\(style)): exactly \(allowed) of \(clients * requests) requests allowed"
    }

    // MARK: locks

    static let release = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end
        """

    /// N workers contending for one lock: never two holders, every worker acquires.
    static func lock(_ p: Parameters, _ backend: any Backend, _ prefix: String) async throws -> String {
        let workers = p.int("workers", 6)
        let rounds = p.int("rounds", 3)
        let ttl = p.int("ttl_ms", 5000)
        let lockKey = prefix + "lock"
        let holders = prefix + "holders"
        let deadline = Date().addingTimeInterval(Double(p.int("timeout_ms", 20_000)) / 1000)
        let acquired = try await withThrowingTaskGroup(of: Int.self) { group in
            for w in 0..<workers {
                group.addTask {
                    var got = 0
                    while got < rounds {
                        guard Date() < deadline else { throw ScenarioFailure(message: "worker \(w) starved: acquired \(got) of \(rounds)") }
                        let token = "worker-\(w)-\(got)-\(UInt32.random(in: 0...UInt32.max))"
                        let reply = try await backend.send(RESPCommand("SET", lockKey, token, "NX", "PX", ttl))
                        guard reply == .ok else {
                            try await Task.sleep(nanoseconds: 2_000_000)
                            continue
                        }
                        let inside = try await backend.send(RESPCommand("INCR", holders))
                        guard inside == .integer(1) else { throw ScenarioFailure(message: "two holders at once (\(inside))") }
                        try await Task.sleep(nanoseconds: 3_000_000)
                        _ = try await backend.send(RESPCommand("DECR", holders))
                        let released = try await backend.send(RESPCommand("EVAL", release, 1, lockKey, token))
                        guard released == .integer(1) else { throw ScenarioFailure(message: "release by the holder failed: \(released)") }
                        got += 1
                    }
                    return got
                }
            }
            return try await group.reduce(0, +)
        }
        return "\(workers) workers acquired the lock \(acquired) times, never two at once"
    }

    // MARK: queues

    /// P producers and C consumers with the reliable LMOVE pattern: every job once, none lost.
    static func queue(_ p: Parameters, _ backend: any Backend, _ prefix: String) async throws -> String {
        let producers = p.int("producers", 3)
        let consumers = p.int("consumers", 3)
        let jobs = p.int("jobs", 60)
        let queue = prefix + "queue"
        let processing = prefix + "processing"
        let done = prefix + "done"
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<producers {
                group.addTask {
                    for j in 0..<jobs { _ = try await backend.send(RESPCommand("LPUSH", queue, "job-\(w)-\(j)")) }
                }
            }
            try await group.waitForAll()
        }
        let total = producers * jobs
        let seen = try await withThrowingTaskGroup(of: [String].self) { group in
            for _ in 0..<consumers {
                group.addTask {
                    var mine: [String] = []
                    while true {
                        let job = try await backend.send(RESPCommand("LMOVE", queue, processing, "RIGHT", "LEFT"))
                        guard let bytes = job.bytes, !job.isError else {
                            if case .error = job { throw ScenarioFailure(message: "LMOVE failed: \(job)") }
                            return mine
                        }
                        _ = try await backend.send(batch: [RESPCommand("SADD", done, bytes), RESPCommand("LREM", processing, 1, bytes)])
                        mine.append(String(decoding: bytes, as: UTF8.self))
                    }
                }
            }
            return try await group.reduce(into: [String]()) { $0 += $1 }
        }
        guard seen.count == total, Set(seen).count == total else {
            throw ScenarioFailure(message: "\(total) jobs produced, \(seen.count) consumed, \(Set(seen).count) distinct")
        }
        let leftovers = try await backend.send(batch: [
            RESPCommand("LLEN", queue), RESPCommand("LLEN", processing), RESPCommand("SCARD", done),
        ])
        guard leftovers == [.integer(0), .integer(0), .integer(Int64(total))] else {
            throw ScenarioFailure(message: "queue/processing/done lengths \(leftovers)")
        }
        return "\(total) jobs from \(producers) producers consumed exactly once by \(consumers) consumers"
    }

    // MARK: sessions

    /// Many concurrent sessions: written, read back whole, refreshed (sliding expiry), deleted on logout.
    static func sessions(_ p: Parameters, _ backend: any Backend, _ prefix: String) async throws -> String {
        let count = p.int("sessions", 40)
        let ttl = p.int("ttl_s", 60)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<count {
                group.addTask {
                    let key = prefix + "session:\(i)"
                    _ = try await backend.send(batch: [
                        RESPCommand("HSET", key, "user", "u\(i)", "csrf", "t\(i)"), RESPCommand("EXPIRE", key, 5),
                    ])
                    let all = try await backend.send(RESPCommand("HGETALL", key))
                    guard all.array?.count == 4 else { throw ScenarioFailure(message: "session \(i) read back as \(all)") }
                    _ = try await backend.send(RESPCommand("EXPIRE", key, ttl))
                    let left = try await backend.send(RESPCommand("TTL", key)).integer ?? -9
                    guard left > 5 && left <= ttl else { throw ScenarioFailure(message: "sliding expiry not refreshed: TTL \(left)") }
                    if i % 2 == 0 {
                        _ = try await backend.send(RESPCommand("DEL", key))
                        let gone = try await backend.send(RESPCommand("EXISTS", key))
                        guard gone == .integer(0) else { throw ScenarioFailure(message: "session \(i) survived logout") }
                    }
                }
            }
            try await group.waitForAll()
        }
        return "\(count) concurrent sessions written, refreshed and logged out"
    }
}
