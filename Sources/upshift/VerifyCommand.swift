import ArgumentParser
import Checklist
import Foundation
import RESP
import RedisClient
import UpstashProfile

/// `upshift verify`: the migration checklist, run against both backends.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Run the migration checklist (cache, rate limit, locks, queue, sessions, …) against source and target, and compare."
    )

    @OptionGroup var source: SourceOptions
    @OptionGroup var target: TargetOptions
    @OptionGroup(title: "The app's own tests") var appTests: AppTestsOptions

    @Option(help: "A checklist folder or file.")
    var checklist: String = "checklists"
    @Option(help: "Only these areas, comma-separated (e.g. cache,locks).")
    var only: String?
    @Option(help: "Write JUnit XML here (a testsuite per area).")
    var junit: String?
    @Option(help: "Write a Markdown report here.")
    var markdown: String?
    @Flag(help: "Print the results as JSON.")
    var json = false

    func validate() throws {
        if try source.url() == nil && target.endpoint() == nil {
            throw ValidationError("give --source and/or --target (or REDIS_URL / UPSTASH_REDIS_REST_URL)")
        }
    }

    func run() async throws {
        if appTests.isRequested {
            return try await appTests.run(source: source, target: target, junit: junit, markdown: markdown, json: json)
        }
        var lists: [Checklist]
        do {
            lists = try Checklist.load(path: checklist)
        } catch {
            throw CLIError("\(error)")
        }
        if let only {
            let areas = Set(only.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) })
            lists = lists.filter { areas.contains($0.area) }
            if lists.isEmpty { throw ValidationError("--only \(only) matches no area in \(checklist)") }
        }
        var backends: [(label: String, backend: any Backend)] = []
        if let url = try source.url() { backends.append(("source", try await source.backend(url, connections: 8))) }
        if try target.endpoint() != nil { backends.append(("target", try target.backend(plan: .payAsYouGo))) }
        let report = await Verification(checklists: lists, backends: backends).run()
        for b in backends { await b.backend.close() }
        try emit(report, junit: junit, markdown: markdown, json: json)
    }
}
