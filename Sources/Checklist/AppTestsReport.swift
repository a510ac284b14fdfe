import Foundation

/// A command Upstash refused during the app's tests: how often (the proxy's count), why, and which tests hit it.
public struct RefusedCommandUse: Sendable, Codable {
    public var command: String
    public var reason: String
    /// The proxy's count over every Upstash run; nil when only a test's output named it.
    public var count: Int?
    /// The tests whose failure on Upstash names it.
    public var tests: [String]
}

/// `verify --app-tests`: the app's own suite on Redis and on Upstash, test by test.
public struct AppTestsReport: Sendable, Codable {
    /// What the verdicts rest on.
    public enum Basis: String, Sendable, Codable {
        /// Each test's outcome, from the runs' JUnit.
        case junit
        /// No run wrote JUnit: the suite's exit status alone.
        case exitStatus = "exit-status"
    }

    public var command: String
    public var basis: Basis
    public var tests: [AppTestResult]
    public var runs: [AppTestRun]
    /// What Upstash refused, with the tests that hit it.
    public var refused: [RefusedCommandUse]
    /// The connection handshake and transaction commands the proxy answered itself (counts), as it will after the flip.
    public var answeredByProxy: [String: Int]
    /// What the flipped proxy printed when it stopped.
    public var proxySummary: String?
    /// Things the reader should know (no JUnit, a RESP target, where the outputs are).
    public var notes: [String]
    public var seconds: Double

    /// The report for `runs`; `proxySummary` is what the proxy printed when it stopped.
    public init(command: String, runs: [AppTestRun], proxySummary: String?, notes: [String] = [], seconds: Double) {
        self.command = command
        self.runs = runs
        self.proxySummary = proxySummary
        self.seconds = seconds
        basis = AppTestsComparison.hasTests(runs) ? .junit : .exitStatus
        tests = AppTestsComparison.compare(runs)
        var notes = notes
        if basis == .exitStatus {
            notes.insert(
                "no run wrote JUnit, so only the suite's exit status is compared: give --app-tests-junit PATH "
                    + "(where the suite writes JUnit) to compare test by test", at: 0)
        }
        self.notes = notes
        let counts = proxySummary.map(RefusalText.proxyCounts(inSummary:)) ?? [:]
        var uses: [RefusedCommandUse] = []
        for test in tests {
            for refusal in test.refused {
                if let i = uses.firstIndex(where: { $0.command == refusal.command }) {
                    if !uses[i].tests.contains(test.id) { uses[i].tests.append(test.id) }
                } else {
                    uses.append(
                        RefusedCommandUse(
                            command: refusal.command, reason: refusal.reason, count: counts[refusal.command], tests: [test.id]))
                }
            }
        }
        var answered: [String: Int] = [:]
        for (name, n) in counts.sorted(by: { $0.key < $1.key }) where !uses.contains(where: { $0.command == name }) {
            if RefusalText.answeredByProxy.contains(name) {
                answered[name] = n
            } else {
                // Refused, though no failing test's text names it (the app caught the error).
                uses.append(RefusedCommandUse(command: name, reason: RefusalText.reason(for: name), count: n, tests: []))
            }
        }
        refused = uses
        answeredByProxy = answered
    }

    /// The tests that pass on Redis and fail on Upstash: the list that matters.
    public var regressions: [AppTestResult] { tests.filter { $0.verdict == .failsOnUpstash } }

    /// True unless some test passes on Redis and fails on Upstash.
    public var isPassing: Bool { regressions.isEmpty }

    /// How many tests got each verdict.
    public var counts: [AppTestVerdict: Int] {
        Dictionary(tests.map { ($0.verdict, 1) }, uniquingKeysWith: +)
    }

    private enum CodingKeys: String, CodingKey {
        case command, basis, tests, runs, refused, answeredByProxy, proxySummary, notes, seconds, passing, verdicts
    }

    /// Decodes a report written by `encode(to:)`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        command = try c.decode(String.self, forKey: .command)
        basis = try c.decode(Basis.self, forKey: .basis)
        tests = try c.decode([AppTestResult].self, forKey: .tests)
        runs = try c.decode([AppTestRun].self, forKey: .runs)
        refused = try c.decode([RefusedCommandUse].self, forKey: .refused)
        answeredByProxy = try c.decode([String: Int].self, forKey: .answeredByProxy)
        proxySummary = try c.decodeIfPresent(String.self, forKey: .proxySummary)
        notes = try c.decode([String].self, forKey: .notes)
        seconds = try c.decode(Double.self, forKey: .seconds)
    }

    /// The report as JSON, with `passing` and the count of each verdict for scripts.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(command, forKey: .command)
        try c.encode(basis, forKey: .basis)
        try c.encode(tests, forKey: .tests)
        try c.encode(runs, forKey: .runs)
        try c.encode(refused, forKey: .refused)
        try c.encode(answeredByProxy, forKey: .answeredByProxy)
        try c.encodeIfPresent(proxySummary, forKey: .proxySummary)
        try c.encode(notes, forKey: .notes)
        try c.encode(seconds, forKey: .seconds)
        try c.encode(isPassing, forKey: .passing)
        try c.encode(Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, $0.value) }), forKey: .verdicts)
    }
}

extension AppTestsReport {
    /// The report with every occurrence of `secrets` (the source's password, the target's token) in
    /// the text it carries replaced by `***`: the command as typed, the app's output, its failures.
    /// The app sees the secrets and may print them; the report never does.
    public func hiding(_ secrets: [String]) -> AppTestsReport {
        let secrets = secrets.filter { $0.count >= 3 }
        guard !secrets.isEmpty else { return self }
        func hide(_ text: String) -> String { secrets.reduce(text) { $0.replacingOccurrences(of: $1, with: "***") } }
        func hide(_ text: String?) -> String? { text.map { hide($0) } }
        var out = self
        out.command = hide(command)
        out.proxySummary = hide(proxySummary)
        out.notes = notes.map { hide($0) }
        out.tests = tests.map { t in
            var t = t
            t.failure = hide(t.failure)
            t.details = hide(t.details)
            return t
        }
        out.runs = runs.map { r in
            var r = r
            r.outputTail = hide(r.outputTail)
            r.tests = r.tests?.map { c in
                var c = c
                c.message = hide(c.message)
                c.details = hide(c.details)
                return c
            }
            return r
        }
        return out
    }
}
