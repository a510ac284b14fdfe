import Checklist
import Foundation
import Testing

private let endpoints = AppEndpoints(
    redisURL: "redis://127.0.0.1:1/3", redisHost: "127.0.0.1", redisPort: 1, redisDB: 3, redisPassword: nil,
    restURL: "http://127.0.0.1:2", restToken: "tok")

private func scratchFolder() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("upshift-apptests-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

private func runner(_ command: String, in dir: String, junit: String? = nil, timeout: Duration = .seconds(60)) -> AppTestsRunner {
    var r = AppTestsRunner(
        plan: AppTestsPlan(command: command, directory: dir, junitPath: junit, timeout: timeout, outputDirectory: dir),
        parentEnvironment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "STRAY_REDIS_URL": "redis://prod:6379"])
    r.grace = .seconds(1)
    return r
}

/// True while a process with this id exists (and is not a zombie of ours).
private func alive(_ pid: Int32) -> Bool {
    guard kill(pid, 0) == 0 else { return false }
    let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
    return !stat.contains(") Z ")
}

private func readPid(_ path: String) async throws -> Int32 {
    for _ in 0..<500 {
        if let text = try? String(contentsOfFile: path, encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
        {
            return pid
        }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw ChecklistError("\(path) never appeared")
}

@Suite("verify --app-tests: running the app's command")
struct AppTestsRunnerTests {
    @Test("a command that cannot start stops the run before Upstash, with the shell's words")
    func cannotStart() async throws {
        let dir = try scratchFolder()
        let error = await #expect(throws: AppTestsError.self) {
            _ = try await runner("no-such-test-runner --all", in: dir).runAll(redis: endpoints, upstash: endpoints)
        }
        #expect(error?.description.contains("could not start") == true)
        #expect(error?.description.contains("not found") == true)
        #expect(error?.run?.backend == .redis)
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/upstash-1.log"))
        let missing = try await runner("true", in: dir + "/nowhere").run(.redis, attempt: 1, endpoints: endpoints)
        #expect(missing.end.kind == .couldNotStart && missing.end.detail?.contains("no directory") == true)
    }

    @Test("a suite that hangs is stopped at the timeout, its whole process group with it")
    func hangs() async throws {
        let dir = try scratchFolder()
        let started = ContinuousClock.now
        let run = try await runner("echo $$ > shell.pid; sleep 60 & echo $! > child.pid; wait", in: dir, timeout: .seconds(1))
            .run(.upstash, attempt: 1, endpoints: endpoints)
        #expect(run.end == AppRunEnd(.timedOut, detail: "1 s"))
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(!alive(try await readPid("\(dir)/shell.pid")))
        #expect(!alive(try await readPid("\(dir)/child.pid")))
        #expect(run.tests == nil)
    }

    @Test("the environment is clean: the caller's Redis settings are gone, the side's are set")
    func cleanEnvironment() async throws {
        let dir = try scratchFolder()
        let command = """
            test -z "$STRAY_REDIS_URL" && test "$REDIS_URL" = redis://127.0.0.1:1/3 && test "$REDIS_DB" = 3 \
            && test "$UPSTASH_REDIS_REST_TOKEN" = tok && test -n "$PYTEST_ADDOPTS"
            """
        let run = try await runner(command, in: dir).run(.redis, attempt: 1, endpoints: endpoints)
        #expect(run.end == AppRunEnd(.exited, code: 0), "\(run.outputTail)")
        #expect(run.tests == nil)
        #expect(run.junitNote?.contains("wrote no JUnit") == true)
    }

    @Test("JUnit where Upshift asks for it (JEST_JUNIT_OUTPUT_FILE, PYTEST_ADDOPTS), or where the suite writes it")
    func junitPaths() async throws {
        let dir = try scratchFolder()
        let write =
            #"printf '<testsuite><testcase classname="s" name="one"/><testcase classname="s" name="two"><failure message="no"/></testcase></testsuite>' > "$JEST_JUNIT_OUTPUT_FILE""#
        let asked = try await runner(write + "; exit 1", in: dir).run(.redis, attempt: 1, endpoints: endpoints)
        #expect(asked.tests?.map(\.outcome) == [.passed, .failed])
        #expect(asked.end == AppRunEnd(.exited, code: 1))
        #expect(asked.junitPath == "\(dir)/redis-1.xml")
        // A stale file from an earlier run is removed first, never read as this run's.
        try FileManager.default.createDirectory(atPath: "\(dir)/reports", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(
            atPath: "\(dir)/reports/junit.xml", contents: Data("<testsuite><testcase name=\"stale\"/></testsuite>".utf8))
        let none = try await runner("true", in: dir, junit: "reports/junit.xml").run(.upstash, attempt: 2, endpoints: endpoints)
        #expect(none.tests == nil)
        #expect(none.junitNote == "the suite wrote no JUnit at \(dir)/reports/junit.xml")
        let own = try await runner(
            "echo '<testsuite><testcase name=\"x\"/></testsuite>' > reports/junit.xml", in: dir, junit: "reports/junit.xml"
        )
        .run(.upstash, attempt: 1, endpoints: endpoints)
        #expect(own.tests?.map(\.id) == ["x"])
        #expect(own.junitPath == "\(dir)/upstash-1.xml" && FileManager.default.fileExists(atPath: "\(dir)/upstash-1.xml"))
    }

    @Test("cancelling the run (Ctrl-C) stops the command's process group")
    func cancelled() async throws {
        let dir = try scratchFolder()
        let r = runner("echo $$ > shell.pid; sleep 60", in: dir)
        let task = Task { try await r.run(.redis, attempt: 1, endpoints: endpoints) }
        let pid = try await readPid("\(dir)/shell.pid")
        task.cancel()
        await #expect(throws: CancellationError.self) { _ = try await task.value }
        #expect(!alive(pid))
    }
}
