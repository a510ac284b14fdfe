import Foundation
import RESP

/// Runs the checklists on every backend and compares the backends' transcripts.
public struct Verification: Sendable {
    public let checklists: [Checklist]
    public let backends: [(label: String, backend: any Backend)]
    /// Scenarios run at once on one backend.
    public var parallel = 8

    public init(checklists: [Checklist], backends: [(label: String, backend: any Backend)]) {
        self.checklists = checklists
        self.backends = backends
    }

    public func run() async -> VerificationReport {
        let started = Date()
        var results: [ScenarioResult] = []
        let runId = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        for (label, backend) in backends {
            let runner = ScenarioRunner(
                backend: backend, label: label, runId: runId, serverVersion: await ScenarioRunner.version(of: backend))
            let jobs = checklists.flatMap { c in c.scenarios.enumerated().map { (c.area, $0.offset, $0.element) } }
            let parallel = self.parallel
            let batch = await withTaskGroup(of: (Int, ScenarioResult).self) { group in
                var out: [(Int, ScenarioResult)] = []
                var next = 0
                for _ in 0..<min(parallel, jobs.count) {
                    let (area, index, scenario) = jobs[next]
                    let n = next
                    group.addTask { (n, await runner.run(scenario, area: area, index: index)) }
                    next += 1
                }
                while let r = await group.next() {
                    out.append(r)
                    if next < jobs.count {
                        let (area, index, scenario) = jobs[next]
                        let n = next
                        group.addTask { (n, await runner.run(scenario, area: area, index: index)) }
                        next += 1
                    }
                }
                return out.sorted { $0.0 < $1.0 }.map(\.1)
            }
            results += batch
        }
        var report = VerificationReport(results: results, seconds: Date().timeIntervalSince(started))
        report.differences = Self.differences(results, backends: backends.map(\.label))
        return report
    }

    /// Scenarios whose outcome or replies differ between backends, even when both pass.
    static func differences(_ results: [ScenarioResult], backends: [String]) -> [String] {
        guard backends.count == 2 else { return [] }
        var out: [String] = []
        let first = results.filter { $0.backend == backends[0] }
        let second = Dictionary(
            results.filter { $0.backend == backends[1] }.map { ("\($0.area)/\($0.scenario)", $0) }, uniquingKeysWith: { a, _ in a })
        for a in first {
            guard let b = second["\(a.area)/\(a.scenario)"] else { continue }
            if a.status != b.status {
                out.append("\(a.area)/\(a.scenario): \(a.status.rawValue) on \(a.backend), \(b.status.rawValue) on \(b.backend)")
            } else if a.status == .pass, a.transcript != b.transcript {
                let i =
                    zip(a.transcript, b.transcript).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                    ?? min(a.transcript.count, b.transcript.count)
                let x = i < a.transcript.count ? a.transcript[i] : "—"
                let y = i < b.transcript.count ? b.transcript[i] : "—"
                out.append("\(a.area)/\(a.scenario): reply \(i + 1) differs: \(x) on \(a.backend), \(y) on \(b.backend)")
            }
        }
        return out
    }
}

/// Every scenario's result on every backend, with renderers for people and CI.
public struct VerificationReport: Sendable, Codable {
    public var results: [ScenarioResult]
    public var seconds: Double
    public var differences: [String] = []

    public var failed: [ScenarioResult] { results.filter { $0.status == .fail } }
    public var isPassing: Bool { failed.isEmpty }

    /// The terminal table: area × scenario × backend.
    public func table() -> String {
        let labels = ordered(results.map(\.backend))
        var rows: [[String]] = [["area", "scenario"] + labels]
        var seen = Set<String>()
        for r in results where seen.insert("\(r.area)/\(r.scenario)").inserted {
            let cells = labels.map { l in
                results.first { $0.backend == l && $0.area == r.area && $0.scenario == r.scenario }.map { symbol($0.status) } ?? "-"
            }
            rows.append([r.area, r.scenario] + cells)
        }
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
        var lines = rows.map { row in
            row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }
        lines.insert(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "), at: 1)
        for r in results where r.status != .pass {
            lines.append("\(symbol(r.status)) \(r.area)/\(r.scenario) on \(r.backend): \(r.message)")
        }
        for d in differences { lines.append("≠ \(d)") }
        let passed = results.filter { $0.status == .pass }.count
        let unavailable = results.filter { $0.status == .unavailable }.count
        lines.append(
            "\(passed) passed, \(failed.count) failed\(unavailable > 0 ? ", \(unavailable) not available" : "") in \(String(format: "%.1f", seconds)) s"
        )
        return lines.joined(separator: "\n")
    }

    private func symbol(_ s: ScenarioResult.Status) -> String {
        switch s {
        case .pass: return "pass"
        case .fail: return "FAIL"
        case .unavailable: return "n/a"
        }
    }

    /// JUnit XML: one testsuite per area, one testcase per scenario and backend.
    public func junit() -> String {
        var out =
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"upshift verify\" tests=\"\(results.count)\" failures=\"\(failed.count)\">\n"
        let areas = ordered(results.map(\.area))
        for area in areas {
            let rs = results.filter { $0.area == area }
            out +=
                "  <testsuite name=\"\(xml(area))\" tests=\"\(rs.count)\" failures=\"\(rs.filter { $0.status == .fail }.count)\" skipped=\"\(rs.filter { $0.status == .unavailable }.count)\">\n"
            for r in rs {
                out +=
                    "    <testcase classname=\"\(xml(area)).\(xml(r.backend))\" name=\"\(xml(r.scenario))\" time=\"\(String(format: "%.3f", r.seconds))\""
                switch r.status {
                case .pass: out += "/>\n"
                case .fail: out += ">\n      <failure message=\"\(xml(r.message))\"/>\n    </testcase>\n"
                case .unavailable: out += ">\n      <skipped message=\"\(xml(r.message))\"/>\n    </testcase>\n"
                }
            }
            out += "  </testsuite>\n"
        }
        return out + "</testsuites>\n"
    }

    /// Markdown for a pull request.
    public func markdown() -> String {
        var out = "# Migration checklist\n\n| area | scenario | backend | result | note |\n|---|---|---|---|---|\n"
        for r in results {
            out +=
                "| \(r.area) | \(r.scenario) | \(r.backend) | \(symbol(r.status)) | \(r.message.replacingOccurrences(of: "|", with: "\\|")) |\n"
        }
        if !differences.isEmpty { out += "\n## Differences between backends\n\n" + differences.map { "- \($0)\n" }.joined() }
        return out
    }

    private func ordered(_ items: [String]) -> [String] {
        var seen = Set<String>()
        return items.filter { seen.insert($0).inserted }
    }

    private func xml(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(
            of: ">", with: "&gt;"
        )
        .replacingOccurrences(of: "\"", with: "&quot;")
    }
}
