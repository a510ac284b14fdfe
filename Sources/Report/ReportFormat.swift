import Foundation

/// The forms a report can be written in.
public enum ReportFormat: String, CaseIterable, Sendable {
    /// A short summary for a terminal.
    case terminal
    /// Markdown, for a pull request or an issue.
    case md
    /// JSON with a stable schema, for machines.
    case json
    /// One self-contained HTML page with inline SVG charts.
    case html
}

extension Report {
    /// The report in the given form.
    public func rendered(as format: ReportFormat) throws -> String {
        switch format {
        case .terminal: return TerminalRenderer.render(self)
        case .md: return MarkdownRenderer.render(self)
        case .json: return try json()
        case .html: return HTMLRenderer.render(self)
        }
    }

    /// The report as pretty-printed JSON with sorted keys, so two runs diff cleanly.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }

    /// A report read back from its JSON form.
    public static func decode(json: Data) throws -> Report {
        try JSONDecoder().decode(Report.self, from: json)
    }

    /// `3 blockers, 1 warning, 2 notes`.
    public var verdict: String {
        func plural(_ n: Int, _ one: String, _ many: String) -> String { "\(ByteText.count(n)) \(n == 1 ? one : many)" }
        return [
            plural(counts.blockers, "blocker", "blockers"), plural(counts.warnings, "warning", "warnings"),
            plural(counts.infos, "note", "notes"),
        ].joined(separator: ", ")
    }

    /// How the census was taken, in one sentence.
    public var censusDescription: String {
        let dbs = census.databases.count
        let where_ = "in \(dbs) database\(dbs == 1 ? "" : "s")"
        let time = ByteText.duration(seconds: census.seconds)
        if census.sampled {
            return
                "sample of \(ByteText.count(census.keysScanned)) keys \(where_), extrapolated ×\(ByteText.decimal(census.extrapolationFactor, places: 1)) "
                + "to \(ByteText.count(census.keys)) keys (\(time))"
        }
        return "full scan of \(ByteText.count(census.keysScanned)) keys \(where_) (\(time))"
    }

    /// The plan the report checked against, by its id.
    var checkedPlan: PlanFit? { cost.plans.first { $0.plan == plan } }

    /// The cheapest plan that fits, by its id.
    var cheapestPlan: PlanFit? { cost.plans.first { $0.plan == cost.cheapestFit } }

    /// `Fixed 250MB ($10.00/month)` or `none`.
    var cheapestDescription: String {
        guard let p = cheapestPlan else { return "none" }
        return p.name + (p.monthlyCost.map { " (\(ByteText.dollars($0))/month)" } ?? "")
    }
}

extension FindingItem {
    /// `db3 user:1 (40.0 KB)`, `BLPOP: 12 calls`: one line for people.
    public var summary: String {
        var text = database.map { "db\($0) " } ?? ""
        text += subject
        var details: [String] = []
        if let bytes { details.append(ByteText.size(bytes)) }
        if let calls { details.append("\(ByteText.count(calls)) call\(calls == 1 ? "" : "s")") }
        if !details.isEmpty { text += " (" + details.joined(separator: ", ") + ")" }
        return text
    }
}

extension Finding {
    /// `3 keys`, `12 calls`, `≈ 300 keys (3 in the sample)`.
    public var countDescription: String {
        if unit == "bytes" { return ByteText.size(count) }
        if let estimatedCount { return "≈ \(ByteText.count(estimatedCount)) \(unit) (\(ByteText.count(count)) in the sample)" }
        let singular = ["keys": "key", "calls": "call", "scripts": "script", "libraries": "library", "commands": "command"]
        return "\(ByteText.count(count)) \(count == 1 ? singular[unit] ?? unit : unit)"
    }
}
