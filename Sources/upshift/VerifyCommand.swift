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

    @Option(
        help: """
            A checklist file or folder of your own, on top of the built-in checklist (repeatable): an area of the same \
            name replaces the built-in one, a new area is added.
            """)
    var checklist: [String] = []
    @Flag(
        name: .customLong("built-in"), inversion: .prefixedNo,
        help: "Run the checklist built into upshift (cache, ratelimit, locks, queue, sessions, transactions, pubsub).")
    var builtIn = true
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
        if !builtIn && checklist.isEmpty { throw ValidationError("--no-built-in needs a --checklist of your own") }
    }

    func run() async throws {
        if appTests.isRequested {
            return try await appTests.run(source: source, target: target, junit: junit, markdown: markdown, json: json)
        }
        var lists: [Checklist]
        do {
            // compiled in, so verify runs the same from any directory and from an installed binary
            lists = Checklist.merged(builtIn ? try Checklist.builtIn() : [], adding: try checklist.flatMap(Checklist.load(path:)))
        } catch {
            throw CLIError("\(error)")
        }
        if let only {
            let areas = Set(only.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) })
            lists = lists.filter { areas.contains($0.area) }
            if lists.isEmpty { throw ValidationError("--only \(only) matches no area of the checklists") }
        }
        var backends: [(label: String, backend: any Backend)] = []
        if let url = try source.url() { backends.append(("source", try await source.backend(url, connections: 8))) }
        if try target.endpoint() != nil { backends.append(("target", try target.backend(plan: .payAsYouGo))) }
        let report = await Verification(checklists: lists, backends: backends).run()
        for b in backends { await b.backend.close() }
        try emit(report, junit: junit, markdown: markdown, json: json)
    }
}
