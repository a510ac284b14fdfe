/// What a test's runs on the two backends say about the migration.
public enum AppTestVerdict: String, Sendable, Codable, CaseIterable {
    case passesOnBoth = "passes-on-both"
    /// The list that matters: the only verdict that fails `verify --app-tests`.
    case failsOnUpstash = "passes-on-redis-fails-on-upstash"
    /// Not the migration's fault.
    case failsOnBoth = "fails-on-both"
    case failsOnRedis = "fails-on-redis-passes-on-upstash"
    /// Its two runs on one backend differ (`--repeat 2`): its verdict says nothing about the migration.
    case flaky
    /// Skipped on a side where it did not fail on the other.
    case skipped

    /// The verdict in words.
    public var title: String {
        switch self {
        case .passesOnBoth: return "passes on both"
        case .failsOnUpstash: return "passes on Redis, fails on Upstash"
        case .failsOnBoth: return "fails on both"
        case .failsOnRedis: return "fails on Redis, passes on Upstash"
        case .flaky: return "flaky"
        case .skipped: return "skipped"
        }
    }

    /// The verdict for one test from its outcome on each backend (the same in every run there).
    public static func of(redis: AppTestOutcome, upstash: AppTestOutcome) -> AppTestVerdict {
        switch (redis, upstash) {
        case (.passed, .passed): return .passesOnBoth
        case (.passed, .failed), (.passed, .notRun): return .failsOnUpstash
        case (.failed, .passed), (.notRun, .passed): return .failsOnRedis
        case (.failed, .failed), (.failed, .notRun), (.notRun, .failed), (.notRun, .notRun): return .failsOnBoth
        case (.skipped, _), (_, .skipped): return .skipped
        }
    }
}

/// One test of the app, on both backends.
public struct AppTestResult: Sendable, Codable {
    /// `classname::name`, as the JUnit named it; `(the whole suite)` when compared by exit status.
    public var id: String
    public var verdict: AppTestVerdict
    /// Its outcome in each run on Redis, then on Upstash, in run order.
    public var redis: [AppTestOutcome]
    public var upstash: [AppTestOutcome]
    /// The backends on which its runs differ.
    public var flakyOn: [AppBackend]
    /// The failure's message: Upstash's when it failed there, else Redis's.
    public var failure: String?
    /// The failure's text (a traceback's end).
    public var details: String?
    /// What Upstash refused this test, as its failure text on Upstash says.
    public var refused: [RefusedCommand]
}

/// Puts the runs of both backends side by side, test by test.
public enum AppTestsComparison {
    /// The id of the one result when there is no JUnit to compare: the suite's exit status.
    public static let wholeSuite = "(the whole suite)"

    /// True when some run reported tests; else only exit statuses can be compared.
    public static func hasTests(_ runs: [AppTestRun]) -> Bool {
        runs.contains { !($0.tests ?? []).isEmpty }
    }

    /// One result per test seen in any run, in the order the Redis runs reported them.
    public static func compare(_ runs: [AppTestRun]) -> [AppTestResult] {
        guard hasTests(runs) else { return [suiteResult(runs)] }
        var order: [String] = []
        var seen = Set<String>()
        for run in runs.sorted(by: { ($0.backend == .redis ? 0 : 1, $0.attempt) < ($1.backend == .redis ? 0 : 1, $1.attempt) }) {
            for test in run.tests ?? [] where seen.insert(test.id).inserted { order.append(test.id) }
        }
        let indexed = runs.map { run in (run, Dictionary((run.tests ?? []).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })) }
        return order.map { id in
            var cases: [AppBackend: [(AppTestRun, AppTestCase)]] = [:]
            for (run, tests) in indexed {
                let test = tests[id] ?? AppTestCase(id: id, outcome: .notRun, message: notReported(run))
                cases[run.backend, default: []].append((run, test))
            }
            return result(id: id, redis: cases[.redis] ?? [], upstash: cases[.upstash] ?? [])
        }
    }

    /// The suite as one test: passed when it exited 0.
    static func suiteResult(_ runs: [AppTestRun]) -> AppTestResult {
        func asCase(_ run: AppTestRun) -> (AppTestRun, AppTestCase) {
            let passed = run.end.succeeded
            let last = run.outputTail.split(whereSeparator: \.isNewline).last.map(String.init)
            return (
                run,
                AppTestCase(
                    id: wholeSuite, outcome: passed ? .passed : .failed,
                    message: passed ? nil : "\(run.end)" + (last.map { ": \($0)" } ?? ""), details: passed ? nil : run.outputTail,
                    seconds: run.seconds)
            )
        }
        return result(
            id: wholeSuite, redis: runs.filter { $0.backend == .redis }.map(asCase),
            upstash: runs.filter { $0.backend == .upstash }.map(asCase))
    }

    private static func result(id: String, redis: [(AppTestRun, AppTestCase)], upstash: [(AppTestRun, AppTestCase)]) -> AppTestResult {
        let r = redis.map(\.1.outcome)
        let u = upstash.map(\.1.outcome)
        var flakyOn: [AppBackend] = []
        if Set(r).count > 1 { flakyOn.append(.redis) }
        if Set(u).count > 1 { flakyOn.append(.upstash) }
        let verdict: AppTestVerdict = flakyOn.isEmpty ? .of(redis: r.first ?? .notRun, upstash: u.first ?? .notRun) : .flaky
        let failing = upstash.first { $0.1.outcome == .failed || $0.1.outcome == .notRun } ?? redis.first { $0.1.outcome == .failed }
        var refused: [RefusedCommand] = []
        for (_, test) in upstash {
            for refusal in RefusalText.refusals(in: [test.message, test.details].compactMap { $0 }.joined(separator: "\n"))
            where !refused.contains(refusal) {
                refused.append(refusal)
            }
        }
        return AppTestResult(
            id: id, verdict: verdict, redis: r, upstash: u, flakyOn: flakyOn, failure: failing?.1.message, details: failing?.1.details,
            refused: refused)
    }

    private static func notReported(_ run: AppTestRun) -> String {
        guard run.tests != nil else { return "not run: the run on \(run.backend) ended with \(run.end) and wrote no JUnit" }
        return "not in the JUnit of the run on \(run.backend) (\(run.end))"
    }
}
