import Foundation

/// How one run of the app's command ended.
public struct AppRunEnd: Sendable, Codable, Equatable, CustomStringConvertible {
    /// The ways a run ends.
    public enum Kind: String, Sendable, Codable {
        case exited
        case signaled
        case timedOut = "timed-out"
        case couldNotStart = "could-not-start"
    }

    public var kind: Kind
    /// The exit status, or the signal's number.
    public var code: Int32?
    /// What the shell or the system said, for a command that could not start; the limit, for a timeout.
    public var detail: String?

    /// An ending from its parts.
    public init(_ kind: Kind, code: Int32? = nil, detail: String? = nil) {
        self.kind = kind
        self.code = code
        self.detail = detail
    }

    /// Exit status 0: the suite passed, by its own account.
    public var succeeded: Bool { kind == .exited && code == 0 }

    /// The ending in words: `exit status 1`, `timed out after 30 s`.
    public var description: String {
        switch kind {
        case .exited: return "exit status \(code ?? -1)"
        case .signaled: return "killed by signal \(code ?? -1)"
        case .timedOut: return "timed out after \(detail ?? "the limit")"
        case .couldNotStart: return "could not start: \(detail ?? "")"
        }
    }
}

/// One run of the app's test command on one backend.
public struct AppTestRun: Sendable, Codable {
    public var backend: AppBackend
    /// 1, or 2 with `--repeat 2`.
    public var attempt: Int
    public var end: AppRunEnd
    public var seconds: Double
    /// The tests its JUnit reported; nil when it wrote none (then only `end` is compared).
    public var tests: [AppTestCase]?
    /// Why `tests` is nil: no JUnit written, or an unreadable one.
    public var junitNote: String?
    /// Where this run's JUnit was kept.
    public var junitPath: String?
    /// The command's standard output and error, interleaved.
    public var outputPath: String
    /// The output's last lines.
    public var outputTail: String

    /// A run from its parts.
    public init(
        backend: AppBackend, attempt: Int, end: AppRunEnd, seconds: Double, tests: [AppTestCase]?, junitNote: String? = nil,
        junitPath: String? = nil, outputPath: String, outputTail: String
    ) {
        self.backend = backend
        self.attempt = attempt
        self.end = end
        self.seconds = seconds
        self.tests = tests
        self.junitNote = junitNote
        self.junitPath = junitPath
        self.outputPath = outputPath
        self.outputTail = outputTail
    }
}

/// What `verify --app-tests` runs, where, and for how long.
public struct AppTestsPlan: Sendable {
    /// A shell command line (`pytest tests/ -q`), run by `/bin/sh -c`.
    public var command: String
    /// The working directory of the command.
    public var directory: String
    /// Where the suite writes JUnit itself, relative to `directory`; nil: Upshift asks pytest
    /// (`PYTEST_ADDOPTS=--junitxml=…`) and jest-junit (`JEST_JUNIT_OUTPUT_FILE`) for it.
    public var junitPath: String?
    /// A run still going after this long is stopped (its process group, SIGTERM then SIGKILL).
    public var timeout: Duration
    /// Runs per backend: 2 tells flaky tests from changed ones.
    public var repeats: Int
    public var environment: AppEnvironment
    /// Where each run's output and JUnit are kept.
    public var outputDirectory: String

    /// A plan from its parts.
    public init(
        command: String, directory: String, junitPath: String? = nil, timeout: Duration = .seconds(1800), repeats: Int = 1,
        environment: AppEnvironment = AppEnvironment(), outputDirectory: String
    ) {
        self.command = command
        self.directory = directory
        self.junitPath = junitPath
        self.timeout = timeout
        self.repeats = repeats
        self.environment = environment
        self.outputDirectory = outputDirectory
    }
}

/// The app's suite could not be run at all: nothing to compare.
public struct AppTestsError: Error, CustomStringConvertible {
    public let description: String
    /// The run that showed it, when there was one.
    public let run: AppTestRun?
    /// An error saying `description`.
    public init(_ description: String, run: AppTestRun? = nil) {
        self.description = description
        self.run = run
    }
}

/// Runs the app's test command, once per backend and repeat, each time in a clean environment.
public struct AppTestsRunner: Sendable {
    public let plan: AppTestsPlan
    /// The environment the runs start from, before Redis and Upstash settings are removed.
    public var parentEnvironment: [String: String]
    /// Stops a run's process group this long after SIGTERM with SIGKILL.
    public var grace: Duration = .seconds(3)

    /// A runner for `plan`, starting from this process's environment.
    public init(plan: AppTestsPlan, parentEnvironment: [String: String] = ProcessInfo.processInfo.environment) {
        self.plan = plan
        self.parentEnvironment = parentEnvironment
    }

    /// Every run: Redis then Upstash, `repeats` times. Stops before any Upstash run when the
    /// command cannot start (exit status 126/127 from the shell, no JUnit) on Redis.
    public func runAll(
        redis: AppEndpoints, upstash: AppEndpoints, progress: @Sendable (String) -> Void = { _ in }
    ) async throws -> [AppTestRun] {
        var runs: [AppTestRun] = []
        for attempt in 1...max(1, plan.repeats) {
            for (backend, endpoints) in [(AppBackend.redis, redis), (.upstash, upstash)] {
                let run = try await self.run(backend, attempt: attempt, endpoints: endpoints)
                progress(Self.line(run, of: plan.repeats))
                if backend == .redis && run.end.kind == .couldNotStart {
                    throw AppTestsError("the app's tests could not start: \(run.end.detail ?? "")", run: run)
                }
                runs.append(run)
            }
        }
        return runs
    }

    /// One run on one backend.
    public func run(_ backend: AppBackend, attempt: Int, endpoints: AppEndpoints) async throws -> AppTestRun {
        let stem = "\(plan.outputDirectory)/\(backend.rawValue)-\(attempt)"
        let output = stem + ".log"
        let ownJUnit = plan.junitPath.map { $0.hasPrefix("/") ? $0 : "\(plan.directory)/\($0)" }
        let junit = stem + ".xml"
        // A file left by an earlier run must not pass for this run's.
        try? FileManager.default.removeItem(atPath: ownJUnit ?? junit)
        var environment = plan.environment.variables(for: endpoints, inheriting: parentEnvironment)
        if ownJUnit == nil {
            let option = "--junitxml=\(Self.shellQuoted(junit))"
            environment["PYTEST_ADDOPTS"] = [environment["PYTEST_ADDOPTS"], option].compactMap { $0 }.joined(separator: " ")
            environment["JEST_JUNIT_OUTPUT_FILE"] = junit
        }
        let started = Date()
        let end: AppRunEnd
        do {
            let child = try await ChildProcess.start(
                executable: "/bin/sh", arguments: ["-c", plan.command], environment: environment, directory: plan.directory, output: output)
            end = try await wait(for: child)
        } catch let error as ChildProcessError {
            end = AppRunEnd(.couldNotStart, detail: error.description)
        }
        let seconds = Date().timeIntervalSince(started)
        var run = AppTestRun(
            backend: backend, attempt: attempt, end: end, seconds: seconds, tests: nil, junitNote: nil, junitPath: nil,
            outputPath: output, outputTail: Self.tail(of: output))
        let written = ownJUnit ?? junit
        if FileManager.default.fileExists(atPath: written) {
            if let ownJUnit {
                try? FileManager.default.removeItem(atPath: junit)
                try? FileManager.default.copyItem(atPath: ownJUnit, toPath: junit)
            }
            run.junitPath = junit
            do {
                run.tests = try JUnitReader.read(path: written)
            } catch {
                run.junitNote = error.description
            }
        } else {
            run.junitNote = ownJUnit.map { "the suite wrote no JUnit at \($0)" } ?? "the suite wrote no JUnit (not pytest, nor jest-junit)"
        }
        // The shell reports a command it cannot find or execute as 127 or 126; a suite that ran says more.
        if end.kind == .exited, end.code == 127 || end.code == 126, run.tests == nil {
            let said = run.outputTail.split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
            run.end = AppRunEnd(.couldNotStart, code: end.code, detail: said.isEmpty ? "exit status \(end.code!)" : said)
        }
        return run
    }

    /// Waits for the command, stopping its group at the timeout or when the task is cancelled.
    private func wait(for child: ChildProcess) async throws -> AppRunEnd {
        let ending = await withTaskCancellationHandler {
            await child.exit(within: plan.timeout)
        } onCancel: {
            child.signalGroup(SIGTERM)
        }
        if Task.isCancelled {
            await child.stop(grace: grace)
            throw CancellationError()
        }
        guard let ending else {
            await child.stop(grace: grace)
            return AppRunEnd(.timedOut, detail: Self.seconds(plan.timeout))
        }
        // What the suite left running (a server, a worker) goes with it.
        child.signalGroup(SIGTERM)
        switch ending {
        case .exited(let code): return AppRunEnd(.exited, code: code)
        case .signaled(let signal): return AppRunEnd(.signaled, code: signal)
        }
    }

    static func line(_ run: AppTestRun, of repeats: Int) -> String {
        let which = repeats > 1 ? " (run \(run.attempt) of \(repeats))" : ""
        let tests: String
        if let cases = run.tests {
            let failed = cases.filter { $0.outcome == .failed }.count
            tests = "\(cases.count) tests, \(failed) failed"
        } else {
            tests = "no JUnit"
        }
        return "app tests on \(run.backend)\(which): \(run.end), \(tests), \(String(format: "%.1f", run.seconds)) s"
    }

    static func seconds(_ d: Duration) -> String {
        let s = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        return s == s.rounded() ? "\(Int(s)) s" : String(format: "%.1f s", s)
    }

    /// The last lines of a file, at most about 4 KB of them.
    static func tail(of path: String, lines: Int = 30) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        try? handle.seek(toOffset: size > 4096 ? size - 4096 : 0)
        let text = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `text` as one word for a shell-style splitter (pytest reads PYTEST_ADDOPTS with shlex).
    static func shellQuoted(_ text: String) -> String {
        let plain = text.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || "0123456789/._-+:=@,".unicodeScalars.contains($0))
        }
        return plain ? text : "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
