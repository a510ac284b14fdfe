import Foundation
import TestSupport
import Testing

@Suite("upshift report --format html, rendered by headless Chromium")
struct HTMLReportTests {
    @Test("one self-contained page with four inline SVG charts that Chromium draws")
    func rendersInChromium() async throws {
        try await withRedisServer { server in
            try await Seed.everyFinding(server)
            let dir = server.directory
            let page = dir.appendingPathComponent("report.html")
            let result = try runUpshift(["report", "--source", server.url, "--format", "html", "--output", page.path])
            #expect(result.status == 2)
            let html = try String(contentsOf: page, encoding: .utf8)

            #expect(html.hasPrefix("<!DOCTYPE html>"))
            #expect(html.components(separatedBy: "<svg").count - 1 == 4)
            for title in ["Type mix", "Value sizes", "Time to live", "Plan fit"] {
                #expect(html.contains("aria-label=\"\(title)"), "no \(title) chart")
            }
            // Self-contained: nothing is fetched.
            for external in ["<script", "<link", "src=", "url(", "@import", "https://"] {
                #expect(!html.contains(external), "found \(external)")
            }
            #expect(html.contains("command-blpop"))
            #expect(html.contains("\\xff\\xfebin"))

            // Screenshot the page, then the same page without its charts: the charts must change the pixels.
            let withCharts = try await screenshot(page, into: dir.appendingPathComponent("with.png"))
            let stripped = dir.appendingPathComponent("stripped.html")
            try withoutSVG(html).write(to: stripped, atomically: true, encoding: .utf8)
            let withoutCharts = try await screenshot(stripped, into: dir.appendingPathComponent("without.png"))
            #expect(withCharts.count > 10_000)
            #expect(Array(withCharts.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
            let size = try #require(pngSize(withCharts))
            #expect(size.0 == 1200 && size.1 == 1800)
            #expect(withCharts != withoutCharts)
        }
    }

    /// The page with every `<svg>…</svg>` removed.
    func withoutSVG(_ html: String) -> String {
        var out = ""
        var rest = Substring(html)
        while let start = rest.range(of: "<svg"), let end = rest.range(of: "</svg>", range: start.upperBound..<rest.endIndex) {
            out += rest[..<start.lowerBound]
            rest = rest[end.upperBound...]
        }
        return out + rest
    }

    /// Width and height from a PNG's IHDR chunk.
    func pngSize(_ png: Data) -> (Int, Int)? {
        guard png.count > 24 else { return nil }
        let b = [UInt8](png.prefix(24))
        let w = Int(b[16]) << 24 | Int(b[17]) << 16 | Int(b[18]) << 8 | Int(b[19])
        let h = Int(b[20]) << 24 | Int(b[21]) << 16 | Int(b[22]) << 8 | Int(b[23])
        return (w, h)
    }

    /// Chromium (Debian's `chromium` package, installed by `make test`) draws the page to a PNG.
    func screenshot(_ page: URL, into png: URL) async throws -> Data {
        let profile = page.deletingLastPathComponent().appendingPathComponent("chromium-profile")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try which("chromium"))
        p.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=\(profile.path)",
            "--window-size=1200,1800", "--screenshot=\(png.path)", page.absoluteString,
        ]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        reapWhenTestsDie(p.processIdentifier)
        let deadline = Date().addingTimeInterval(60)
        while p.isRunning, Date() < deadline { try await Task.sleep(nanoseconds: 50_000_000) }
        if p.isRunning {
            p.terminate()
            throw TestSupportError("chromium did not finish within 60 s")
        }
        return try Data(contentsOf: png)
    }
}
