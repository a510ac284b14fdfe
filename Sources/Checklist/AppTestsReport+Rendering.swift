import Foundation

extension AppTestsReport {
    /// The terminal table: each test on each backend, then what failed on Upstash only and what Upstash refused.
    public func table() -> String {
        var rows: [[String]] = [["test", "Redis", "Upstash", "verdict"]]
        for t in tests {
            rows.append([t.id, cells(t.redis), cells(t.upstash), title(t)])
        }
        let widths = (0..<4).map { c in rows.map { $0[c].count }.max() ?? 0 }
        var lines = rows.map { row in
            row.enumerated().map {
                $0.offset == 3 ? $0.element : $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0)
            }
            .joined(separator: "  ")
        }
        lines.insert(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "), at: 1)
        if !regressions.isEmpty {
            lines.append("")
            lines.append("Passes on Redis, fails on Upstash:")
            for t in regressions {
                lines.append("  \(t.id)")
                if let failure = t.failure { lines.append("    \(failure)") }
                if !t.refused.isEmpty { lines.append("    refused: " + t.refused.map(\.command).joined(separator: ", ")) }
            }
        }
        for t in tests where t.verdict == .flaky {
            lines.append("flaky on " + t.flakyOn.map(\.description).joined(separator: " and ") + ": \(t.id)")
        }
        if !refused.isEmpty {
            lines.append("")
            lines.append("Commands Upstash refused while the tests ran:")
            for use in refused {
                let count = use.count.map { " ×\($0)" } ?? ""
                let who = use.tests.isEmpty ? "no failing test names it" : use.tests.joined(separator: ", ")
                lines.append("  \(use.command)\(count): \(use.reason) — \(who)")
            }
        }
        if !answeredByProxy.isEmpty {
            lines.append("Answered by the proxy itself, as after the flip: " + proxyCounts())
        }
        let proxyLines = (proxySummary ?? "").split(whereSeparator: \.isNewline)
        if let traffic = proxyLines.first(where: { $0.hasPrefix("shadow: ") }) {
            let mismatches = proxyLines.first { $0.hasPrefix("mismatches: ") }.map { "; " + $0 } ?? ""
            lines.append("proxy: " + traffic.dropFirst("shadow: ".count) + mismatches)
        }
        for note in notes { lines.append("note: \(note)") }
        lines.append(summaryLine())
        return lines.joined(separator: "\n")
    }

    /// Markdown for a pull request: the regressions first, then the refused commands, every test and every run.
    public func markdown() -> String {
        var out = "# App tests on Redis and Upstash\n\n`\(command)`: \(summaryLine())\n"
        if !regressions.isEmpty {
            out += "\n## Passes on Redis, fails on Upstash\n\n| test | failure on Upstash | refused |\n|---|---|---|\n"
            for t in regressions {
                out += "| \(md(t.id)) | \(md(t.failure ?? "")) | \(md(t.refused.map(\.command).joined(separator: ", "))) |\n"
            }
        }
        if !refused.isEmpty {
            out += "\n## Commands Upstash refused\n\n| command | count | why | tests |\n|---|---|---|---|\n"
            for use in refused {
                out +=
                    "| \(use.command) | \(use.count.map(String.init) ?? "") | \(md(use.reason)) | \(md(use.tests.joined(separator: ", "))) |\n"
            }
        }
        if !answeredByProxy.isEmpty { out += "\nAnswered by the proxy itself, as after the flip: \(proxyCounts()).\n" }
        out += "\n## Every test\n\n| test | Redis | Upstash | verdict |\n|---|---|---|---|\n"
        for t in tests { out += "| \(md(t.id)) | \(cells(t.redis)) | \(cells(t.upstash)) | \(title(t)) |\n" }
        out += "\n## Runs\n\n| backend | run | ended | tests | seconds | output |\n|---|---|---|---|---|---|\n"
        for r in runs {
            let count = r.tests.map { "\($0.count)" } ?? md(r.junitNote ?? "no JUnit")
            out +=
                "| \(r.backend) | \(r.attempt) | \(md(r.end.description)) | \(count) | \(String(format: "%.1f", r.seconds)) | \(md(r.outputPath)) |\n"
        }
        if !notes.isEmpty { out += "\n## Notes\n\n" + notes.map { "- \(md($0))\n" }.joined() }
        if let proxySummary { out += "\n## The proxy's summary\n\n```\n\(proxySummary)\n```\n" }
        return out
    }

    /// JUnit XML: one testcase per app test; only "passes on Redis, fails on Upstash" is a failure,
    /// the verdicts that are not the migration's fault are skipped with their reason.
    public func junit() -> String {
        let failed = regressions.count
        let skipped = tests.filter { [.failsOnBoth, .flaky, .skipped].contains($0.verdict) }.count
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<testsuites name=\"upshift verify --app-tests\" tests=\"\(tests.count)\" failures=\"\(failed)\" skipped=\"\(skipped)\">\n"
        out +=
            "  <testsuite name=\"app tests on Redis and Upstash\" tests=\"\(tests.count)\" failures=\"\(failed)\" skipped=\"\(skipped)\" time=\"\(String(format: "%.3f", seconds))\">\n"
        for t in tests {
            let (classname, name) = split(t.id)
            out += "    <testcase classname=\"\(xml(classname))\" name=\"\(xml(name))\""
            let why = t.failure.map { "\(title(t)): \($0)" } ?? title(t)
            switch t.verdict {
            case .failsOnUpstash:
                var body = t.details ?? t.failure ?? ""
                if !t.refused.isEmpty {
                    body += "\nrefused by Upstash: " + t.refused.map { "\($0.command) (\($0.reason))" }.joined(separator: ", ")
                }
                out += ">\n      <failure message=\"\(xml(why))\">\(xml(body))</failure>\n    </testcase>\n"
            case .failsOnBoth, .flaky, .skipped:
                out += ">\n      <skipped message=\"\(xml(why))\"/>\n    </testcase>\n"
            case .passesOnBoth, .failsOnRedis:
                out += t.verdict == .passesOnBoth ? "/>\n" : ">\n      <system-out>\(xml(why))</system-out>\n    </testcase>\n"
            }
        }
        return out + "  </testsuite>\n</testsuites>\n"
    }

    /// `16 tests: 14 pass on both, 2 pass on Redis and fail on Upstash (…)`.
    func summaryLine() -> String {
        let order: [(AppTestVerdict, String)] = [
            (.passesOnBoth, "pass on both"), (.failsOnUpstash, "pass on Redis and fail on Upstash"), (.failsOnBoth, "fail on both"),
            (.failsOnRedis, "fail on Redis and pass on Upstash"), (.flaky, "flaky"), (.skipped, "skipped"),
        ]
        let parts = order.compactMap { verdict, words in counts[verdict].map { "\($0) \(words)" } }
        let what = basis == .junit ? "\(tests.count) tests" : "the whole suite (by exit status)"
        let perBackend = runs.filter { $0.backend == .redis }.count
        return "\(what): \(parts.joined(separator: ", ")); \(perBackend) run(s) per backend in \(String(format: "%.1f", seconds)) s"
    }

    private func proxyCounts() -> String {
        answeredByProxy.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }

    private func title(_ t: AppTestResult) -> String {
        t.verdict == .flaky ? "flaky on " + t.flakyOn.map(\.description).joined(separator: " and ") : t.verdict.title
    }

    private func cells(_ outcomes: [AppTestOutcome]) -> String {
        outcomes.map { o -> String in
            switch o {
            case .passed: return "pass"
            case .failed: return "FAIL"
            case .skipped: return "skip"
            case .notRun: return "—"
            }
        }.joined(separator: ",")
    }

    private func split(_ id: String) -> (String, String) {
        guard let r = id.range(of: "::") else { return ("app", id) }
        return (String(id[..<r.lowerBound]), String(id[r.upperBound...]))
    }

    private func md(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }

    /// Text as XML character data: escaped, and without the control characters XML 1.0 forbids (a traceback's colours).
    private func xml(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\n", "\t", "\r": out.unicodeScalars.append(scalar)
            default:
                if scalar.value >= 0x20 && scalar.value != 0xFFFE && scalar.value != 0xFFFF { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }
}
