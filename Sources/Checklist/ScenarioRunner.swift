import Foundation
import RESP

/// How one scenario ended on one backend.
public struct ScenarioResult: Sendable, Codable {
    public enum Status: String, Sendable, Codable {
        case pass, fail
        /// The backend does not serve the scenario's commands (e.g. BLPOP over REST): an actionable finding, not a failure.
        case unavailable
    }
    public var area: String
    public var scenario: String
    public var backend: String
    public var status: Status
    public var message: String
    public var seconds: Double
    /// Replies of the steps, rendered with the key prefix removed, to compare backends.
    public var transcript: [String]
}

/// Runs scenarios against a backend, each under its own key prefix, cleaned up afterwards.
public struct ScenarioRunner: Sendable {
    public let backend: any Backend
    public let label: String
    let runId: String
    /// The backend's Redis version, when it says (`INFO server`); scenarios needing a newer one are "n/a".
    public var serverVersion: RedisVersion?

    public init(
        backend: any Backend, label: String, runId: String = String(UInt32.random(in: 0...UInt32.max), radix: 36),
        serverVersion: RedisVersion? = nil
    ) {
        self.backend = backend
        self.label = label
        self.runId = runId
        self.serverVersion = serverVersion
    }

    /// The `redis_version` of `INFO server`, or nil when the backend does not say.
    public static func version(of backend: any Backend) async -> RedisVersion? {
        guard let info = try? await backend.send(RESPCommand("INFO", "server")).text else { return nil }
        for line in info.split(whereSeparator: \.isNewline) where line.hasPrefix("redis_version:") {
            return RedisVersion(String(line.dropFirst("redis_version:".count)))
        }
        return nil
    }

    /// Runs one scenario; never throws: a failure to reach the backend is a failed scenario.
    public func run(_ scenario: Scenario, area: String, index: Int) async -> ScenarioResult {
        let prefix = "upshift:verify:\(runId):\(area):\(index):"
        let started = Date()
        if let needed = scenario.minimumRedis, let running = serverVersion, running < needed {
            return ScenarioResult(
                area: area, scenario: scenario.name, backend: label, status: .unavailable,
                message: "n/a: needs Redis \(needed) (this server runs \(running))", seconds: 0, transcript: [])
        }
        var context = Context(prefix: prefix)
        var status = ScenarioResult.Status.pass
        var message = ""
        do {
            if let kind = scenario.kind {
                message = try await BuiltInScenarios.run(kind, parameters: scenario.parameters, backend: backend, prefix: prefix)
            }
            for (i, step) in scenario.steps.enumerated() {
                if let why = try await run(step, &context) {
                    status = .fail
                    message = "step \(i + 1): \(why)"
                    break
                }
            }
        } catch let failure as ScenarioFailure {
            status = .fail
            message = failure.message
        } catch {
            status = .fail
            message = "\(error)"
        }
        if status == .fail, let advice = scenario.unavailableAdvice,
            message.contains("not available") || message.contains("Unexpected flag in script shebang")
        {
            status = .unavailable
            message = "not available on this backend — \(advice)"
        }
        await cleanup(prefix)
        return ScenarioResult(
            area: area, scenario: scenario.name, backend: label, status: status, message: message,
            seconds: Date().timeIntervalSince(started), transcript: context.transcript)
    }

    struct Context {
        let prefix: String
        var saved: [String: [UInt8]] = [:]
        var transcript: [String] = []

        func expand(_ t: Template) -> [UInt8] {
            var out: [UInt8] = []
            var rest = Substring(t.text)
            while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
                out += Array(rest[..<open].utf8)
                let name = String(rest[rest.index(after: open)..<close])
                out += placeholder(name) ?? Array(rest[open...close].utf8)
                rest = rest[rest.index(after: close)...]
            }
            return out + Array(rest.utf8)
        }

        private func placeholder(_ name: String) -> [UInt8]? {
            let now = Date().timeIntervalSince1970
            if name == "p" { return Array(prefix.utf8) }
            if let v = saved[name] { return v }
            if name.hasPrefix("now_ms") { return Array(String(Int64(now * 1000) + offset(name, "now_ms")).utf8) }
            if name.hasPrefix("now_s") { return Array(String(Int64(now) + offset(name, "now_s")).utf8) }
            if name.hasPrefix("bytes:"), let n = Int(name.dropFirst(6)) { return [UInt8](repeating: UInt8(ascii: "x"), count: n) }
            if name.hasPrefix("hex:") {
                let hex = Array(name.dropFirst(4))
                return stride(from: 0, to: hex.count - 1, by: 2).compactMap { UInt8(String(hex[$0...$0 + 1]), radix: 16) }
            }
            return nil
        }

        private func offset(_ name: String, _ base: String) -> Int64 {
            Int64(name.dropFirst(base.count).replacingOccurrences(of: "+", with: "")) ?? 0
        }

        mutating func record(_ reply: RESPValue) {
            transcript.append(reply.description.replacingOccurrences(of: prefix, with: "{p}"))
        }
    }

    private func run(_ step: Step, _ ctx: inout Context) async throws -> String? {
        switch step {
        case .wait(let ms):
            try await Task.sleep(nanoseconds: UInt64(ms) * 1_000_000)
            return nil
        case .command(let argv, let expect, let eventually, let save):
            let command = RESPCommand(arguments: argv.map(ctx.expand))
            let deadline = Date().addingTimeInterval(Double(eventually ?? 0) / 1000)
            while true {
                let reply = try await backend.send(command)
                let why = expect?.mismatch(reply, prefix: ctx.prefix)
                if why == nil || Date() >= deadline {
                    if expect?.isExactMatch ?? true { ctx.record(reply) }
                    if let save, let bytes = reply.bytes { ctx.saved[save] = bytes }
                    return why.map { "\(command.name): \($0)" }
                }
                try await Task.sleep(nanoseconds: 50_000_000)
            }
        case .pipeline(let commands, let expect):
            let replies = try await backend.send(batch: commands.map { RESPCommand(arguments: $0.map(ctx.expand)) })
            for r in replies { ctx.record(r) }
            guard let expect else { return nil }
            guard expect.count == replies.count else { return "pipeline: \(expect.count) expectations for \(replies.count) replies" }
            for (i, (e, r)) in zip(expect, replies).enumerated() {
                if let why = e.mismatch(r, prefix: ctx.prefix) { return "pipeline reply \(i + 1): \(why)" }
            }
            return nil
        case .scan(let pattern, let expect):
            var keys: [RESPValue] = []
            var cursor: [UInt8] = Array("0".utf8)
            repeat {
                let reply = try await backend.send(RESPCommand("SCAN", cursor, "MATCH", ctx.expand(pattern), "COUNT", 1000))
                guard let parts = reply.array, parts.count == 2, let next = parts[0].bytes else { return "SCAN: unexpected reply \(reply)" }
                keys += parts[1].array ?? []
                cursor = next
            } while cursor != Array("0".utf8)
            let all = RESPValue.array(keys.sorted { ($0.bytes ?? []).lexicographicallyPrecedes($1.bytes ?? []) })
            ctx.record(all)
            return expect?.mismatch(all, prefix: ctx.prefix).map { "SCAN to the end: \($0)" }
        case .transaction(let commands, let expect):
            let reply = try await backend.transaction(commands.map { RESPCommand(arguments: $0.map(ctx.expand)) })
            ctx.record(reply)
            return expect?.mismatch(reply, prefix: ctx.prefix).map { "transaction: \($0)" }
        }
    }

    private func cleanup(_ prefix: String) async {
        var cursor: [UInt8] = Array("0".utf8)
        for _ in 0..<10_000 {
            guard let reply = try? await backend.send(RESPCommand("SCAN", cursor, "MATCH", prefix + "*", "COUNT", 1000)),
                let parts = reply.array, parts.count == 2, let next = parts[0].bytes
            else { return }
            let keys = (parts[1].array ?? []).compactMap(\.bytes)
            if !keys.isEmpty { _ = try? await backend.send(RESPCommand("DEL", arguments: keys)) }
            cursor = next
            if cursor == Array("0".utf8) { return }
        }
    }
}

/// A built-in scenario's failure, with what was observed.
struct ScenarioFailure: Error {
    let message: String
}
