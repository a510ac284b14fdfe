/// The report as a short terminal summary: verdict, findings with actions, census, cost.
enum TerminalRenderer {
    static func render(_ r: Report) -> String {
        var out: [String] = []
        out.append("upshift report: \(r.source) (Redis \(r.server.redisVersion)), checked against plan \(r.plan)")
        out.append("Verdict: \(r.verdict). Cheapest plan that fits: \(r.cheapestDescription).")
        out.append("")
        out.append(
            "Census: \(r.censusDescription), \(ByteText.size(r.census.bytes)) in keys, \(ByteText.size(r.server.usedMemoryBytes)) used")
        let rows = r.census.types.map { t in
            ["  " + t.type, keys(t.keys), ByteText.size(t.bytes)]
        }
        out += table(rows)
        if r.census.databases.count > 1 {
            out.append("  by database: " + r.census.databases.map { "db\($0.index) \(keys($0.keys))" }.joined(separator: ", "))
        }
        out.append("  TTL: " + r.census.timeToLive.buckets.map { "\($0.label) \(ByteText.count($0.count))" }.joined(separator: " · "))
        if let top = r.census.biggestKeys.first {
            out.append("  biggest key: db\(top.database) \(top.key) (\(top.type), \(ByteText.size(top.bytes)))")
        }
        out.append("")
        out.append("Findings:")
        if r.findings.isEmpty { out.append("  none") }
        for f in r.findings {
            out.append("  \(f.severity.rawValue.uppercased().padding(7)) \(f.title) — \(f.countDescription)")
            let items = f.items.prefix(3).map(\.summary)
            if !items.isEmpty { out.append("          " + items.joined(separator: "; ") + (f.items.count > 3 ? "; …" : "")) }
            out.append("          → \(f.action)")
        }
        out.append("")
        let c = r.cost
        out.append(
            "Cost: \(ByteText.decimal(c.commandsPerSecond, places: 1)) billed commands/s over \(CostEstimate.describe(seconds: c.uptimeSeconds)) ≈ \(ByteText.count(Int(c.monthlyCommands))) a month"
                + (c.shortWindow ? " (SHORT WINDOW: extrapolated from under a day)" : ""))
        out += table(
            c.plans.map { p in
                [
                    "  " + p.name, p.monthlyCost.map { ByteText.dollars($0) + "/month" } ?? "over quota",
                    p.storageUsed.map { ByteText.decimal($0 * 100, places: 1) + "% of storage" } ?? "",
                    p.fits ? "fits" : "does not fit",
                ]
            })
        let m = c.migration
        out.append(
            "Migration on \(m.plan): \(ByteText.count(m.commands)) commands in \(ByteText.count(m.requests)) request\(m.requests == 1 ? "" : "s"), "
                + "\(ByteText.size(m.bytes)), about \(ByteText.duration(seconds: m.seconds)) at \(ByteText.count(m.commandsPerSecond)) commands/s"
        )
        out.append("  " + MigrationEstimate.pathAdvice)
        out.append("Assumed: " + c.assumptions.joined(separator: "; ") + ".")
        return out.joined(separator: "\n") + "\n"
    }

    /// `1 key`, `12 keys`.
    static func keys(_ n: Int) -> String { ByteText.count(n) + (n == 1 ? " key" : " keys") }

    /// Left-aligned columns.
    static func table(_ rows: [[String]]) -> [String] {
        guard let columns = rows.map(\.count).max() else { return [] }
        let widths = (0..<columns).map { c in rows.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { c, cell in c == row.count - 1 ? cell : cell.padding(widths[c]) }.joined(separator: "  ")
        }
    }
}

extension String {
    /// Padded with spaces to `width` characters.
    func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
