/// Small inline SVG charts for the HTML report: no scripts, no fonts, printable.
enum SVGCharts {
    /// One bar: its label, its value (for the length) and the text shown beside it.
    struct Bar {
        var label: String
        var value: Double
        var caption: String
        var color: String = "#2f6fdf"
    }

    /// Horizontal bars, one per row, lengths relative to `maximum` (the largest value when nil).
    static func horizontal(title: String, bars: [Bar], maximum: Double? = nil) -> String {
        let rowHeight = 26
        let labelWidth = 150
        let barWidth = 260
        let width = labelWidth + barWidth + 170
        let height = 34 + rowHeight * max(bars.count, 1)
        let top = maximum ?? bars.map(\.value).max() ?? 1
        var svg = open(title: title, width: width, height: height)
        if bars.isEmpty { svg += text(x: 8, y: 48, "no data", anchor: "start") }
        for (i, bar) in bars.enumerated() {
            let y = 30 + i * rowHeight
            let length = top > 0 ? Int((min(bar.value, top) / top * Double(barWidth)).rounded()) : 0
            svg += text(x: labelWidth - 8, y: y + 15, bar.label, anchor: "end")
            svg += "<rect x=\"\(labelWidth)\" y=\"\(y + 3)\" width=\"\(barWidth)\" height=\"16\" fill=\"#eef1f6\"/>"
            svg +=
                "<rect x=\"\(labelWidth)\" y=\"\(y + 3)\" width=\"\(max(length, bar.value > 0 ? 1 : 0))\" height=\"16\" fill=\"\(bar.color)\"/>"
            svg += text(x: labelWidth + barWidth + 8, y: y + 15, bar.caption, anchor: "start")
        }
        return svg + "</svg>"
    }

    /// Vertical bars over labelled buckets: a histogram.
    static func histogram(title: String, buckets: [(label: String, count: Int)], color: String = "#2f6fdf") -> String {
        let columnWidth = 58
        let plotHeight = 150
        let width = max(320, 20 + columnWidth * buckets.count)
        let height = 30 + plotHeight + 44
        let top = Double(buckets.map(\.count).max() ?? 0)
        var svg = open(title: title, width: width, height: height)
        let baseline = 30 + plotHeight
        for (i, bucket) in buckets.enumerated() {
            let x = 10 + i * columnWidth
            let h = top > 0 ? Int((Double(bucket.count) / top * Double(plotHeight - 16)).rounded()) : 0
            let shown = bucket.count > 0 ? max(h, 1) : 0
            svg += "<rect x=\"\(x + 6)\" y=\"\(baseline - shown)\" width=\"\(columnWidth - 12)\" height=\"\(shown)\" fill=\"\(color)\"/>"
            svg += text(x: x + columnWidth / 2, y: baseline - shown - 4, ByteText.count(bucket.count), anchor: "middle")
            svg += text(x: x + columnWidth / 2, y: baseline + 16, bucket.label, anchor: "middle", size: 10)
        }
        svg += "<line x1=\"8\" y1=\"\(baseline)\" x2=\"\(width - 8)\" y2=\"\(baseline)\" stroke=\"#888\"/>"
        return svg + "</svg>"
    }

    private static func open(title: String, width: Int, height: Int) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" aria-label=\"\(HTMLRenderer.escape(title))\" "
            + "width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\">"
            + "<title>\(HTMLRenderer.escape(title))</title>"
            + text(x: 8, y: 18, title, anchor: "start", size: 14, weight: "bold")
    }

    private static func text(x: Int, y: Int, _ content: String, anchor: String, size: Int = 12, weight: String = "normal") -> String {
        "<text x=\"\(x)\" y=\"\(y)\" text-anchor=\"\(anchor)\" font-size=\"\(size)\" font-weight=\"\(weight)\" "
            + "font-family=\"system-ui, sans-serif\" fill=\"#222\">\(HTMLRenderer.escape(content))</text>"
    }
}
