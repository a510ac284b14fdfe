import Foundation
import Yams

/// One area of the migration checklist (cache, locks, …), read from a YAML file in `checklists/`.
public struct Checklist: Sendable {
    public var area: String
    public var description: String
    public var scenarios: [Scenario]
    public var file: String
}

/// A scenario: steps with expectations, or a built-in concurrent kind with parameters.
public struct Scenario: Sendable {
    public var name: String
    public var description: String
    public var steps: [Step]
    public var kind: String?
    public var parameters: [String: String]
    /// Advice when a backend says the scenario's commands are not available (BLPOP over REST).
    public var unavailableAdvice: String?
    /// The oldest Redis that runs it (`requires: redis 7.0`): on an older server it is "n/a", not failed.
    public var minimumRedis: RedisVersion? = nil
}

/// A Redis server version, compared part by part (`6.2.14` < `7.0`).
public struct RedisVersion: Sendable, Comparable, CustomStringConvertible {
    public var parts: [Int]

    /// Parses `7`, `7.0`, `6.2.14`; nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: ".").map { Int($0) }
        guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else { return nil }
        self.parts = parts.map { $0! }
    }

    public static func < (a: RedisVersion, b: RedisVersion) -> Bool {
        for i in 0..<max(a.parts.count, b.parts.count) {
            let x = i < a.parts.count ? a.parts[i] : 0
            let y = i < b.parts.count ? b.parts[i] : 0
            if x != y { return x < y }
        }
        return false
    }

    public var description: String { parts.map(String.init).joined(separator: ".") }
}

/// One step of a scenario.
public enum Step: Sendable {
    case command([Template], expect: Expectation?, eventuallyMs: Int?, save: String?)
    case pipeline([[Template]], expect: [Expectation]?)
    case transaction([[Template]], expect: Expectation?)
    /// Every key matching a pattern, SCAN followed to the end.
    case scan(Template, expect: Expectation?)
    case wait(ms: Int)
}

/// A command argument with placeholders: `{p}` (the scenario's key prefix), `{name}` (a saved
/// reply), `{now_ms+N}`, `{now_s+N}`, `{bytes:N}` (N bytes), `{hex:00ff}` (raw bytes).
public struct Template: Sendable, Hashable {
    public var text: String
}

/// A malformed checklist file, with where.
public struct ChecklistError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension Checklist {
    /// Every `*.yaml`/`*.yml` file of a folder (or one file), sorted by name.
    public static func load(path: String) throws -> [Checklist] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw ChecklistError("no checklist at \(path)") }
        let files: [String]
        if isDir.boolValue {
            files = try FileManager.default.contentsOfDirectory(atPath: path)
                .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted().map { path + "/" + $0 }
        } else {
            files = [path]
        }
        return try files.map { try parse(yaml: String(contentsOfFile: $0, encoding: .utf8), file: $0) }
    }

    /// Parses one checklist file.
    public static func parse(yaml: String, file: String = "<string>") throws -> Checklist {
        let root: Any?
        do {
            root = try Yams.load(yaml: yaml)
        } catch {
            throw ChecklistError("\(file): not valid YAML: \(error)")
        }
        guard let map = root as? [String: Any], let area = map["area"] as? String else {
            throw ChecklistError("\(file): expected a mapping with `area:` and `scenarios:`")
        }
        guard let list = map["scenarios"] as? [Any] else { throw ChecklistError("\(file): `scenarios:` must be a list") }
        var scenarios: [Scenario] = []
        for (i, item) in list.enumerated() {
            guard let s = item as? [String: Any], let name = s["name"] as? String else {
                throw ChecklistError("\(file): scenario \(i + 1) needs a `name:`")
            }
            let at = "\(file): scenario '\(name)'"
            var steps: [Step] = []
            for (j, raw) in ((s["steps"] as? [Any]) ?? []).enumerated() {
                steps.append(try parseStep(raw, at: "\(at), step \(j + 1)"))
            }
            let kind = s["kind"] as? String
            if steps.isEmpty && kind == nil { throw ChecklistError("\(at): give `steps:` or a built-in `kind:`") }
            var params: [String: String] = [:]
            for (k, v) in (s["with"] as? [String: Any]) ?? [:] { params[k] = "\(v)" }
            var minimum: RedisVersion? = nil
            if let requires = s["requires"] {
                let text = scalarText(requires).lowercased()
                guard text.hasPrefix("redis "), let v = RedisVersion(String(text.dropFirst(6))) else {
                    throw ChecklistError("\(at): `requires:` is `redis` and a version (redis 7.0), not '\(text)'")
                }
                minimum = v
            }
            scenarios.append(
                Scenario(
                    name: name, description: s["description"] as? String ?? "", steps: steps, kind: kind, parameters: params,
                    unavailableAdvice: s["if_unavailable"] as? String, minimumRedis: minimum))
        }
        return Checklist(area: area, description: map["description"] as? String ?? "", scenarios: scenarios, file: file)
    }

    static func templates(_ raw: Any?, at: String) throws -> [Template] {
        guard let list = raw as? [Any], !list.isEmpty else { throw ChecklistError("\(at): a command is a non-empty list") }
        return list.map { Template(text: scalarText($0)) }
    }

    static func scalarText(_ v: Any) -> String {
        if let b = v as? Bool { return b ? "true" : "false" }
        if let d = v as? Double, d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        return "\(v)"
    }

    static func parseStep(_ raw: Any, at: String) throws -> Step {
        guard let m = raw as? [String: Any] else {
            throw ChecklistError("\(at): a step is a mapping (send:, pipeline:, transaction:, wait:)")
        }
        if let w = m["wait"] { return .wait(ms: try duration(w, at: at)) }
        if let send = m["send"] {
            return .command(
                try templates(send, at: at), expect: try m["expect"].map { try Expectation.parse($0, at: at) },
                eventuallyMs: try m["eventually"].map { try duration($0, at: at) }, save: m["save"] as? String)
        }
        if let p = m["pipeline"] as? [Any] {
            let expects = try (m["expect"] as? [Any])?.map { try Expectation.parse($0, at: at) }
            return .pipeline(try p.map { try templates($0, at: at) }, expect: expects)
        }
        if let pattern = m["scan"] {
            return .scan(Template(text: scalarText(pattern)), expect: try m["expect"].map { try Expectation.parse($0, at: at) })
        }
        if let t = m["transaction"] as? [Any] {
            return .transaction(try t.map { try templates($0, at: at) }, expect: try m["expect"].map { try Expectation.parse($0, at: at) })
        }
        throw ChecklistError("\(at): unknown step, expected send:, pipeline:, transaction:, scan: or wait:")
    }

    /// `500ms`, `2s`, or a number of milliseconds.
    static func duration(_ v: Any, at: String) throws -> Int {
        if let i = v as? Int { return i }
        let s = "\(v)"
        if s.hasSuffix("ms"), let n = Int(s.dropLast(2)) { return n }
        if s.hasSuffix("s"), let n = Double(s.dropLast()) { return Int(n * 1000) }
        throw ChecklistError("\(at): '\(s)' is not a duration (500ms, 2s)")
    }
}
