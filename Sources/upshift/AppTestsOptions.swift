import ArgumentParser
import Checklist
import Foundation
import RedisClient

/// `verify --app-tests`: the app's own test suite, run against the source Redis and against
/// Upstash (through a flipped `upshift shadow` for TCP clients), compared test by test.
struct AppTestsOptions: ParsableArguments {
    @Option(
        name: .customLong("app-tests"),
        help: """
            Run the app's own test suite instead of the checklist: a shell command (e.g. "pytest tests/ -q"), run once against \
            the source and once against Upstash, compared test by test. Exit status 1 only when a test passes on Redis and fails on Upstash.
            """)
    var command: String?
    @Option(name: .customLong("app-tests-dir"), help: "The directory the command runs in (default: the current one).")
    var directory: String?
    @Option(
        name: .customLong("app-tests-junit"),
        help: """
            Where the suite writes JUnit XML itself (relative to --app-tests-dir). Without it, pytest (PYTEST_ADDOPTS) and \
            jest-junit (JEST_JUNIT_OUTPUT_FILE) are asked for JUnit; a suite with none is compared by its exit status.
            """)
    var junitPath: String?
    @Option(
        name: .customLong("app-tests-timeout"), help: "Seconds one run may take; then its processes are stopped and it counts as failed.")
    var timeout: Double = 1800
    @Option(
        name: .customLong("app-redis-db"),
        help: "The source's scratch database the tests run in (REDIS_URL points there; the proxy mirrors Upstash's writes there).")
    var database: Int?
    @Flag(
        name: .customLong("app-tests-on-source-data"),
        help: "Run the tests in the source URL's own database instead of a scratch one: their writes land in that data.")
    var onSourceData = false
    @Option(
        name: .customLong("env"),
        help: """
            NAME=ROLE: also give the app NAME, for each side (roles: \(AppVariable.allCases.map(\.rawValue).joined(separator: ", "))). \
            Repeatable. REDIS_URL, REDIS_HOST, REDIS_PORT, REDIS_DB, UPSTASH_REDIS_REST_URL and _TOKEN are always set.
            """)
    var env: [String] = []
    @Option(name: .customLong("repeat"), help: "Runs per backend: 2 tells flaky tests (their two runs differ) from changed ones.")
    var repeats: Int = 1
    @Option(name: .customLong("app-tests-out"), help: "Keep each run's output and JUnit here (default: a new temporary directory).")
    var outputDirectory: String?

    /// True when `--app-tests` was given.
    var isRequested: Bool { command != nil }

    func validate() throws {
        guard command != nil else {
            let given = [
                ("--app-tests-dir", directory != nil), ("--app-tests-junit", junitPath != nil), ("--app-redis-db", database != nil),
                ("--app-tests-on-source-data", onSourceData), ("--env", !env.isEmpty), ("--app-tests-out", outputDirectory != nil),
            ].filter(\.1).map(\.0)
            if let first = given.first { throw ValidationError("\(first) is for --app-tests") }
            return
        }
        guard timeout > 0 else { throw ValidationError("--app-tests-timeout must be positive") }
        guard (1...2).contains(repeats) else { throw ValidationError("--repeat is 1 or 2") }
        if let database, database < 0 { throw ValidationError("--app-redis-db is a database number") }
        guard database != nil || onSourceData else {
            throw ValidationError(
                "the app's tests write to Redis: name a scratch database with --app-redis-db N, "
                    + "or pass --app-tests-on-source-data to run them in the source's own data")
        }
        _ = try environment()
    }

    /// Runs the suite on both sides and prints or writes the report like the rest of `verify`.
    func run(source: SourceOptions, target: TargetOptions, junit: String?, markdown: String?, json: Bool) async throws {
        guard let command else { return }
        guard let sourceText = source.source ?? ProcessInfo.processInfo.environment["REDIS_URL"], let sourceURL = try source.url() else {
            throw ValidationError("--app-tests needs the source: give --source URL (or set REDIS_URL)")
        }
        guard let targetURL = try target.endpoint() else {
            throw ValidationError("--app-tests needs the target: give --target URL and --token (or set UPSTASH_REDIS_REST_URL/_TOKEN)")
        }
        let restTarget = !TargetOptions.isRESP(targetURL)
        let targetToken = restTarget ? try target.restSettings(url: targetURL).1 : nil
        let scratchText = database.map { AppRedisURL.withDatabase(sourceText, $0) } ?? sourceText
        let scratchDB = database ?? sourceURL.database
        let password = sourceURL.password
        let userInfo = AppRedisURL.userInfo(sourceText).map { $0 + "@" } ?? ""
        let (host, port): (String?, Int?) = {
            if case .tcp(let h, let p) = sourceURL.address { return (h, p) }
            return (nil, nil)
        }()
        // The app is handed these; whatever it prints of them, the report hides.
        let secrets =
            [password, targetToken, target.token].compactMap { $0 }
            + (password?.addingPercentEncoding(withAllowedCharacters: .urlUserAllowed).map { [$0] } ?? [])
        let out = try outputFolder()
        var notes = ["each run's output and JUnit are in \(out)"]
        if !restTarget { notes.append("the target speaks RESP: the Upstash runs get REDIS_URL (the proxy) and no REST variables") }
        let tls = Self.tlsSettings(source)
        if !tls.isEmpty {
            notes.append("the --tls-* settings went to the gateway and the proxy; the app's REDIS_URL on Redis is the source's as written")
        }
        let plan = AppTestsPlan(
            command: command, directory: directory ?? FileManager.default.currentDirectoryPath, junitPath: junitPath,
            timeout: .milliseconds(Int64(timeout * 1000)), repeats: repeats, environment: try environment(), outputDirectory: out)
        let started = Date()
        let helpers = Helpers(
            executable: Self.executable(), scratchText: AppRedisURL.adding(tls, to: scratchText), targetURL: targetURL,
            targetToken: targetToken ?? target.token ?? ProcessInfo.processInfo.environment["UPSTASH_REDIS_REST_TOKEN"],
            directory: out)
        let outcome: (runs: [AppTestRun], proxySummary: String)
        do {
            outcome = try await cancellingOnInterrupt {
                try await helpers.run { gateway, proxy in
                    let redis = AppEndpoints(
                        redisURL: scratchText, redisHost: host, redisPort: port, redisDB: scratchDB, redisPassword: password,
                        restURL: "http://127.0.0.1:\(gateway.port)", restToken: helpers.gatewayToken)
                    let upstash = AppEndpoints(
                        redisURL: "redis://\(userInfo)127.0.0.1:\(proxy.port)", redisHost: "127.0.0.1", redisPort: proxy.port, redisDB: 0,
                        redisPassword: password, restURL: restTarget ? targetURL : nil, restToken: targetToken)
                    return try await AppTestsRunner(plan: plan).runAll(redis: redis, upstash: upstash) { line in
                        FileHandle.standardError.write(Data((line + "\n").utf8))
                    }
                }
            }
        } catch let error as AppTestsError {
            var text = "upshift verify: \(error.description)\n"
            if let tail = error.run?.outputTail, !tail.isEmpty { text += tail + "\n" }
            text = secrets.reduce(text) { $1.count >= 3 ? $0.replacingOccurrences(of: $1, with: "***") : $0 }
            FileHandle.standardError.write(Data(text.utf8))
            throw ExitCode(2)
        } catch let error as ChildProcessError {
            throw CLIError(error.description)
        } catch is CancellationError {
            FileHandle.standardError.write(
                Data("upshift verify: interrupted; the app's tests, the gateway and the proxy were stopped\n".utf8))
            throw ExitCode(130)
        }
        let report = AppTestsReport(
            command: command, runs: outcome.runs, proxySummary: outcome.proxySummary, notes: notes,
            seconds: Date().timeIntervalSince(started)
        ).hiding(secrets)
        try emit(report, junit: junit, markdown: markdown, json: json)
    }

    private func environment() throws -> AppEnvironment {
        do {
            return try AppEnvironment(parsing: env)
        } catch {
            throw ValidationError(error.description)
        }
    }

    private func outputFolder() throws -> String {
        let path =
            outputDirectory
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("upshift-app-tests-\(UUID().uuidString.prefix(8))").path
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw CLIError("cannot create \(path): \(error.localizedDescription)")
        }
        return URL(fileURLWithPath: path).standardizedFileURL.path
    }

    /// The source's `--tls-*` flags as the URL query settings the gateway and the proxy read from `REDIS_URL`.
    static func tlsSettings(_ source: SourceOptions) -> [(String, String)] {
        let given: [(String, String?)] = [
            ("tls-ca", source.tlsCA), ("tls-cert", source.tlsCert), ("tls-key", source.tlsKey), ("tls-server-name", source.tlsServerName),
            ("tls-insecure", source.tlsInsecure ? "true" : nil),
        ]
        return given.compactMap { name, value in value.map { (name, $0) } }
    }

    /// This very binary, to start the gateway and the proxy as its children.
    static func executable() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}

/// The two servers the runs need, started from this binary: `upshift gateway --compat lenient` in
/// front of the scratch database (REST apps on the Redis side) and `upshift shadow --primary-side
/// upstash` in front of the target, its rollback side the scratch database. Stopped on every path.
private struct Helpers: Sendable {
    let executable: String
    let scratchText: String
    let targetURL: String
    let targetToken: String?
    let directory: String
    let gatewayToken = (0..<4).map { _ in String(UInt64.random(in: 0...UInt64.max), radix: 36) }.joined()

    /// Runs `body` with both started; returns its result and the proxy's summary.
    func run<T: Sendable>(_ body: (HelperProcess, HelperProcess) async throws -> T) async throws -> (T, String) {
        let parent = ProcessInfo.processInfo.environment.filter { name, _ in
            !name.uppercased().contains("REDIS") && !name.uppercased().contains("UPSTASH")
        }
        // Secrets travel in the children's environment, never on a command line others can read.
        var gatewayEnv = parent
        gatewayEnv["REDIS_URL"] = scratchText
        gatewayEnv["UPSTASH_REDIS_REST_TOKEN"] = gatewayToken
        let gateway = try await HelperProcess.start(
            name: "gateway", executable: executable,
            arguments: ["gateway", "--listen", "127.0.0.1:0", "--compat", "lenient", "--log-level", "error"], environment: gatewayEnv,
            marker: "gateway listening on http://127.0.0.1:", directory: directory)
        var proxyEnv = parent
        proxyEnv["REDIS_URL"] = scratchText
        proxyEnv["UPSTASH_REDIS_REST_URL"] = targetURL
        proxyEnv["UPSTASH_REDIS_REST_TOKEN"] = targetToken
        let proxy: HelperProcess
        do {
            proxy = try await HelperProcess.start(
                name: "proxy", executable: executable,
                arguments: [
                    "shadow", "--listen", "127.0.0.1:0", "--primary-side", "upstash", "--mismatch-log",
                    "\(directory)/proxy-mismatches.jsonl",
                    "--drain-timeout", "2", "--log-level", "error",
                ], environment: proxyEnv, marker: "shadow listening on 127.0.0.1:", directory: directory)
        } catch {
            await gateway.stop()
            throw error
        }
        do {
            let result = try await body(gateway, proxy)
            let summary = await proxy.stop()
            await gateway.stop()
            return (result, summary)
        } catch {
            await proxy.stop()
            await gateway.stop()
            throw error
        }
    }
}
