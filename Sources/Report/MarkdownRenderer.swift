/// The report as GitHub-flavoured Markdown, for a pull request: verdict, findings, census, cost.
enum MarkdownRenderer {
    static func render(_ r: Report) -> String {
        var out: [String] = []
        out.append("# Upshift report: \(code(r.source))")
        out.append("")
        out.append("**Verdict: \(r.verdict).** Checked against **\(r.checkedPlan?.name ?? r.plan)** (`\(r.plan)`). ")
        out.append("Cheapest plan that fits: **\(r.cheapestDescription)**.")
        out.append("")
        out.append(
            "Source: Redis \(r.server.redisVersion), up \(ByteText.duration(seconds: Double(r.server.uptimeSeconds))), "
                + "\(ByteText.size(r.server.usedMemoryBytes)) in use. Census: \(r.censusDescription). Generated \(r.generatedAt).")
        out.append("")
        out.append("## Findings")
        out.append("")
        if r.findings.isEmpty {
            out.append("Nothing stands in the way.")
        } else {
            out.append("| severity | finding | count | involved | what to do |")
            out.append("|---|---|---|---|---|")
            for f in r.findings {
                let items = f.items.map { code($0.summary) }.joined(separator: "<br>")
                out.append(
                    "| \(f.severity.rawValue) | \(cell(f.title)) <sub>`\(f.id)`</sub> | \(f.countDescription) | \(items) | \(cell(f.action)) |"
                )
            }
        }
        out.append("")
        out += census(r)
        out += cost(r)
        return out.joined(separator: "\n") + "\n"
    }

    static func census(_ r: Report) -> [String] {
        let c = r.census
        var out = ["## Keyspace", ""]
        if c.sampled {
            out.append(
                "> Figures are extrapolated from a sample of \(ByteText.count(c.keysScanned)) keys (×\(ByteText.decimal(c.extrapolationFactor, places: 1)))."
            )
            out.append("")
        }
        out.append(
            "**\(ByteText.count(c.keys)) keys, \(ByteText.size(c.bytes))** in \(c.databases.count) database\(c.databases.count == 1 ? "" : "s")."
        )
        out.append("")
        out.append("### By type")
        out.append("")
        out.append("| type | keys | bytes | elements (bytes of strings) |")
        out.append("|---|---:|---:|---:|")
        for t in c.types {
            out.append("| \(cell(t.type)) | \(ByteText.count(t.keys)) | \(ByteText.size(t.bytes)) | \(ByteText.count(t.elements)) |")
        }
        out.append("")
        out.append("### By database")
        out.append("")
        out.append("| database | keys | bytes | keys with expiry (INFO) | keys read |")
        out.append("|---|---:|---:|---:|---:|")
        for d in c.databases {
            out.append(
                "| db\(d.index) | \(ByteText.count(d.keys)) | \(ByteText.size(d.bytes)) | \(ByteText.count(d.expiresReported)) | \(ByteText.count(d.keysScanned)) |"
            )
        }
        out.append("")
        for (title, h) in [("Value sizes (memory per key)", c.valueSizes), ("Key sizes", c.keySizes), ("Time to live", c.timeToLive)] {
            out.append("### \(title)")
            out.append("")
            out.append("| bucket | keys |")
            out.append("|---|---:|")
            for b in h.buckets { out.append("| \(b.label) | \(ByteText.count(b.count)) |") }
            out.append("")
        }
        if c.vanishedKeys > 0 {
            out.append("\(ByteText.count(c.vanishedKeys)) keys listed by SCAN were gone when read (expired or deleted).")
            out.append("")
        }
        out.append("### Biggest keys")
        out.append("")
        out.append("| # | database | key | type | memory | length | TTL |")
        out.append("|---:|---|---|---|---:|---:|---:|")
        for (i, k) in c.biggestKeys.enumerated() {
            let ttl = k.ttlMilliseconds.map { ByteText.duration(seconds: Double($0) / 1000) } ?? "none"
            out.append(
                "| \(i + 1) | db\(k.database) | \(code(k.key)) | \(cell(k.type)) | \(ByteText.size(k.bytes)) | \(k.length.map(ByteText.count) ?? "") | \(ttl) |"
            )
        }
        out.append("")
        return out
    }

    static func cost(_ r: Report) -> [String] {
        let c = r.cost
        var out = ["## Cost", ""]
        out.append(
            "\(ByteText.count(c.observedCalls)) calls over \(ByteText.duration(seconds: Double(c.uptimeSeconds))) of uptime, "
                + "\(ByteText.count(c.billedCalls)) of them billed (\(ByteText.count(c.writeCalls)) writes): "
                + "\(ByteText.decimal(c.commandsPerSecond, places: 2)) billed commands/s, about **\(ByteText.count(Int(c.monthlyCommands))) commands a month**."
        )
        if c.shortWindow {
            out.append("")
            out.append(
                "> **Short window:** the rates come from \(CostEstimate.describe(seconds: c.uptimeSeconds)) of uptime; a month extrapolated from under a day is a guess."
            )
        }
        out.append("")
        out.append(
            "| plan | storage | storage used | largest record fits | commands | fixed price | storage | bandwidth | monthly price | fits |")
        out.append("|---|---:|---:|---|---:|---:|---:|---:|---:|---|")
        for p in c.plans {
            let price = p.monthlyCost.map(ByteText.dollars) ?? "over quota"
            out.append(
                "| \(p.name) | \(p.storageBytes.map(ByteText.size) ?? "—") | \(p.storageUsed.map { ByteText.decimal($0 * 100, places: 1) + "%" } ?? "—") "
                    + "| \(p.fitsRecords ? "yes" : "no") | \(ByteText.dollars(p.commandsCost)) | \(ByteText.dollars(p.fixedCost)) "
                    + "| \(ByteText.dollars(p.storageCost)) | \(ByteText.dollars(p.bandwidthCost)) | \(price) | \(p.fits ? "✅ yes" : "❌ no") |"
            )
        }
        out.append("")
        out.append("Assumed: " + c.assumptions.joined(separator: "; ") + ". Check upstash.com/pricing before quoting these prices.")
        out.append("")
        let m = c.migration
        out.append("## Migration estimate (\(m.plan))")
        out.append("")
        out.append("| commands | requests | bytes | duration |")
        out.append("|---:|---:|---:|---:|")
        out.append(
            "| \(ByteText.count(m.commands)) | \(ByteText.count(m.requests)) | \(ByteText.size(m.bytes)) | \(ByteText.duration(seconds: m.seconds)) at \(ByteText.count(m.commandsPerSecond)) commands/s |"
        )
        out.append("")
        out.append(MigrationEstimate.pathAdvice + ".")
        out.append("")
        return out
    }

    /// Text for a table cell: pipes and HTML escaped, one line.
    static func cell(_ text: String) -> String {
        HTMLRenderer.escape(text).replacing("|", with: "&#124;").replacing("\n", with: " ")
    }

    /// A key or command in a table cell: `<code>`, since keys may hold backticks.
    static func code(_ text: String) -> String {
        "<code>" + cell(text) + "</code>"
    }
}
