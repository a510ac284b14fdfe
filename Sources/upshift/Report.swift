import ArgumentParser
import Foundation
import RedisClient
import Report
import UpstashProfile

#if canImport(Glibc)
    import Glibc
#endif

/// `upshift report`: the read-only dry run: what breaks on Upstash, what it costs, how long the copy takes.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Read the source (read-only) and report what will break on Upstash, what it will cost and how long the copy takes.",
        discussion: "Exits 2 when a blocker is found, so CI can gate on it."
    )

    @OptionGroup var source: SourceOptions

    @Option(help: "The Upstash plan to check against.")
    var plan: UpstashPlan = .payAsYouGo

    @Option(help: "Output format.")
    var format: ReportFormat = .terminal

    @Flag(help: "Same as --format json.")
    var json = false

    @Option(help: "Write the report to this file instead of standard output.")
    var output: String?

    @Option(help: "Read only about this many keys and extrapolate (a bounded SCAN per database).")
    var sample: Int?

    @Option(help: "How many of the biggest keys to list.")
    var top: Int = 10

    @Option(help: "Read regions of a global database to price in: each bills every write once more; fixed plans +50% each.")
    var readRegions: Int = 0

    @Option(help: "Keys per SCAN page and pipelined probe.")
    var scanCount: Int = 1000

    func validate() throws {
        if try source.url() == nil { throw ValidationError("give --source URL (or set REDIS_URL)") }
        if let sample, sample < 1 { throw ValidationError("--sample must be at least 1") }
        if top < 0 || scanCount < 1 { throw ValidationError("--top must be ≥ 0 and --scan-count ≥ 1") }
    }

    func run() async throws {
        guard let url = try source.url() else { return }
        try await source.preflight(url)
        let chosen = json ? .json : format
        let showProgress = isatty(STDERR_FILENO) == 1
        let report = try await Report.run(
            source: url, readFrom: source.readFrom,
            options: ReportOptions(plan: plan, sample: sample, topKeys: top, scanCount: scanCount, readRegions: readRegions)
        ) { scanned, total in
            if showProgress { FileHandle.standardError.write(Data("\r\(scanned)/\(total) keys read".utf8)) }
        }
        if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        let text = try report.rendered(as: chosen)
        if let output {
            try Data(text.utf8).write(to: URL(fileURLWithPath: output))
            print("wrote \(output): \(report.verdict)")
        } else {
            print(text, terminator: "")
        }
        if report.hasBlockers { throw ExitCode(2) }
    }
}
