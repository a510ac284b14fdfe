/// The report as one self-contained HTML page: inline CSS, inline SVG charts, no scripts, no
/// external fonts; readable in a browser and printable. The tables are the Markdown's.
enum HTMLRenderer {
    static func render(_ r: Report) -> String {
        let verdictClass = r.counts.blockers > 0 ? "blocker" : (r.counts.warnings > 0 ? "warning" : "ok")
        var body = """
            <h1>Upshift report</h1>
            <p class="source">\(escape(r.source)) · Redis \(escape(r.server.redisVersion)) · \(escape(ByteText.size(r.server.usedMemoryBytes))) in use · generated \(escape(r.generatedAt))</p>
            <div class="verdict \(verdictClass)"><strong>\(escape(r.verdict))</strong> against \(escape(r.checkedPlan?.name ?? r.plan)).
            Cheapest plan that fits: <strong>\(escape(r.cheapestDescription))</strong>.</div>
            <p>Census: \(escape(r.censusDescription)).</p>
            <section class="charts">
            \(charts(r).joined(separator: "\n"))
            </section>
            <h2>Findings</h2>

            """
        if r.findings.isEmpty {
            body += "<p>Nothing stands in the way.</p>\n"
        } else {
            body +=
                "<table><thead><tr><th>severity</th><th>finding</th><th>count</th><th>involved</th><th>what to do</th></tr></thead><tbody>\n"
            for f in r.findings {
                let items = f.items.map { "<code>\(escape($0.summary))</code>" }.joined(separator: "<br>")
                body +=
                    "<tr class=\"\(f.severity.rawValue)\"><td><span class=\"badge \(f.severity.rawValue)\">\(f.severity.rawValue)</span></td>"
                    + "<td>\(escape(f.title)) <small>\(escape(f.id))</small></td><td class=\"num\">\(escape(f.countDescription))</td>"
                    + "<td>\(items)</td><td>\(codeSpans(escape(f.action)))</td></tr>\n"
            }
            body += "</tbody></table>\n"
        }
        // The census and cost tables are the Markdown's, turned into HTML tables.
        body += markdownTables(MarkdownRenderer.census(r) + MarkdownRenderer.cost(r))
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Upshift report: \(escape(r.source))</title>
            <style>\(style)</style></head>
            <body>
            \(body)
            </body></html>

            """
    }

    /// The four charts: type mix, value sizes, TTLs, plan fit.
    static func charts(_ r: Report) -> [String] {
        let c = r.census
        let palette = ["#2f6fdf", "#14a37f", "#e0a100", "#d9534f", "#7b61c9", "#3aa6c9", "#999999", "#555555"]
        let typeBars = c.types.enumerated().map { i, t in
            SVGCharts.Bar(
                label: t.type, value: Double(t.bytes),
                caption: "\(ByteText.count(t.keys)) key\(t.keys == 1 ? "" : "s") · \(ByteText.size(t.bytes))",
                color: palette[i % palette.count])
        }
        let planBars = r.cost.plans.map { p in
            SVGCharts.Bar(
                label: p.name, value: p.storageUsed ?? 0,
                caption: (p.storageUsed.map { ByteText.decimal($0 * 100, places: 1) + "% used" } ?? "uncapped")
                    + " · " + (p.monthlyCost.map { ByteText.dollars($0) + "/mo" } ?? "over quota"),
                color: p.fits ? "#14a37f" : "#d9534f")
        }
        return [
            SVGCharts.horizontal(title: "Type mix (memory)", bars: typeBars),
            SVGCharts.histogram(title: "Value sizes (keys per bucket)", buckets: c.valueSizes.buckets.map { ($0.label, $0.count) }),
            SVGCharts.histogram(title: "Time to live (keys)", buckets: c.timeToLive.buckets.map { ($0.label, $0.count) }, color: "#14a37f"),
            SVGCharts.horizontal(
                title: "Plan fit (storage used by \(ByteText.size(r.server.usedMemoryBytes)))", bars: planBars, maximum: 1),
        ]
    }

    /// Markdown headings, paragraphs and pipe tables (as `MarkdownRenderer` writes them) as HTML.
    static func markdownTables(_ lines: [String]) -> String {
        var html = ""
        var inTable = false
        var header = true
        for line in lines {
            if line.hasPrefix("|") {
                let cells = line.dropFirst().dropLast().split(separator: "|", omittingEmptySubsequences: false).map {
                    $0.trimmingSpaces()
                }
                if cells.allSatisfy({ $0.allSatisfy { "-:".contains($0) } }) { continue }
                if !inTable {
                    html += "<table>"
                    inTable = true
                    header = true
                }
                let tag = header ? "th" : "td"
                // Cells already carry escaped text and <code>/<br>: they come from MarkdownRenderer.
                html += "<tr>" + cells.map { "<\(tag)>\(inline($0))</\(tag)>" }.joined() + "</tr>\n"
                header = false
                continue
            }
            if inTable {
                html += "</table>\n"
                inTable = false
            }
            if line.hasPrefix("### ") {
                html += "<h3>\(escape(String(line.dropFirst(4))))</h3>\n"
            } else if line.hasPrefix("## ") {
                html += "<h2>\(escape(String(line.dropFirst(3))))</h2>\n"
            } else if line.hasPrefix("> ") {
                html += "<p class=\"note\">\(inline(escape(String(line.dropFirst(2)))))</p>\n"
            } else if !line.isEmpty {
                html += "<p>\(inline(escape(line)))</p>\n"
            }
        }
        if inTable { html += "</table>\n" }
        return html
    }

    /// `` `text` `` to `<code>text</code>`.
    static func codeSpans(_ text: String) -> String {
        let parts = text.split(separator: "`", omittingEmptySubsequences: false)
        guard parts.count >= 3, parts.count % 2 == 1 else { return text }
        return parts.enumerated().map { i, part in i % 2 == 1 ? "<code>\(part)</code>" : String(part) }.joined()
    }

    /// `**bold**` to `<strong>`.
    private static func inline(_ text: String) -> String {
        var out = ""
        var bold = false
        var rest = Substring(text)
        while let range = rest.firstRange(of: "**") {
            out += rest[..<range.lowerBound]
            out += bold ? "</strong>" : "<strong>"
            bold.toggle()
            rest = rest[range.upperBound...]
        }
        return out + rest + (bold ? "</strong>" : "")
    }

    /// Text safe inside HTML elements and attributes.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for ch in text {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(ch)
            }
        }
        return out
    }

    static let style = """
        body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#222;line-height:1.4}
        h1{margin-bottom:.2rem}.source{color:#666;margin-top:0}
        .verdict{padding:.8rem 1rem;border-radius:6px;margin:1rem 0}
        .verdict.blocker{background:#fdecea;border-left:6px solid #d9534f}.verdict.warning{background:#fff6db;border-left:6px solid #e0a100}
        .verdict.ok{background:#e6f6ef;border-left:6px solid #14a37f}
        .charts{display:flex;flex-wrap:wrap;gap:1rem}.chart{border:1px solid #ddd;border-radius:6px;background:#fff}
        table{border-collapse:collapse;margin:.5rem 0 1.2rem;font-size:.9rem}th,td{border:1px solid #ddd;padding:.3rem .5rem;vertical-align:top;text-align:left}
        th{background:#f4f6f9}td.num{text-align:right;white-space:nowrap}code{font-size:.85rem;overflow-wrap:anywhere}
        .badge{padding:.1rem .4rem;border-radius:4px;color:#fff;font-size:.8rem}.badge.blocker{background:#d9534f}
        .badge.warning{background:#e0a100}.badge.info{background:#2f6fdf}small{color:#888}.note{color:#555;font-style:italic}
        @media print{body{margin:0;max-width:none}.chart{break-inside:avoid}table{break-inside:auto}tr{break-inside:avoid}}
        """
}

extension Substring {
    /// Without leading and trailing spaces.
    func trimmingSpaces() -> String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
