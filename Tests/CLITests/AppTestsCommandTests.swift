import Foundation
import RESP
import RedisClient
import TestSupport
import Testing

private let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

private func fixture(_ name: String) -> String { repository.appendingPathComponent("Fixtures/apps/\(name)").path }

private func scratchFolder() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("upshift-verify-app-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// `upshift verify --app-tests …` against `source` (scratch database 5) and the strict gateway as the target.
private func verifyApp(
    _ command: String, source: RedisServer, target: GatewayProcess, out: String, _ extra: [String] = [], environment: [String: String] = [:]
) async throws -> CommandResult {
    let arguments =
        [
            "verify", "--app-tests", command, "--source", source.url, "--app-redis-db", "5", "--target", target.url, "--token",
            target.token,
            "--app-tests-out", out,
        ] + extra
    return try await offPool { try runUpshift(arguments, environment: environment, timeout: 400) }
}

private func json(_ result: CommandResult) throws -> [String: Any] {
    guard let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else {
        throw TestSupportError("not a JSON object: \(result.stdout) \(result.stderr)")
    }
    return object
}

private func verdicts(_ report: [String: Any]) -> [String: String] {
    let tests = report["tests"] as? [[String: Any]] ?? []
    return Dictionary(uniqueKeysWithValues: tests.map { ($0["id"] as? String ?? "", $0["verdict"] as? String ?? "") })
}

/// The ports the helpers announced in `out`: both must be closed once verify returns.
private func helperPorts(_ out: String) -> [Int] {
    [("gateway.out", "http://127.0.0.1:"), ("proxy.out", "listening on 127.0.0.1:")].compactMap { file, marker in
        let text = (try? String(contentsOfFile: "\(out)/\(file)", encoding: .utf8)) ?? ""
        guard let r = text.range(of: marker) else { return nil }
        return Int(text[r.upperBound...].prefix { $0.isNumber })
    }
}

private func alive(_ pid: Int32) -> Bool {
    guard kill(pid, 0) == 0 else { return false }
    let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
    return !stat.contains(") Z ")
}

@Suite("upshift verify --app-tests: the app's own suite on Redis and on Upstash", .serialized)
struct AppTestsCommandTests {
    @Test("the redis-py shop: exactly its BLPOP and WATCH tests pass on Redis and fail on Upstash, the refused commands named")
    func redisPyShop() async throws {
        try await withRedisServer { source in
            try await withGateway { target in
                let production = try source.client()
                #expect(try await production.send(RESPCommand("SET", "customer:1", "Ada")) == .ok)
                let out = try scratchFolder()
                let result = try await verifyApp(
                    "python3 -m pytest -q", source: source, target: target, out: out,
                    ["--app-tests-dir", fixture("shop"), "--json", "--junit", "\(out)/verify.xml", "--markdown", "\(out)/verify.md"])
                #expect(result.status == 1, "\(result.stderr)")
                let report = try json(result)
                let byTest = verdicts(report)
                let blpop = "tests.test_jobs::test_worker_waits_for_the_next_job"
                let watch = "tests.test_inventory::test_concurrent_reservations_never_oversell"
                #expect(byTest.count == 16, "\(byTest)")
                #expect(byTest.filter { $0.value == "passes-on-redis-fails-on-upstash" }.keys.sorted() == [watch, blpop], "\(byTest)")
                #expect(byTest.filter { $0.value == "passes-on-both" }.count == 14, "\(byTest)")
                let tests = report["tests"] as? [[String: Any]] ?? []
                let failure = { (id: String) in tests.first { $0["id"] as? String == id }?["failure"] as? String ?? "" }
                #expect(failure(blpop).contains("upshift: BLPOP is not served by Upstash over REST"), "\(failure(blpop))")
                #expect(failure(watch).contains("upshift: WATCH is not served by Upstash over REST"), "\(failure(watch))")
                let refused = (report["refused"] as? [[String: Any]] ?? []).map {
                    ($0["command"] as? String ?? "", $0["tests"] as? [String] ?? [], $0["count"] as? Int)
                }
                #expect(refused.map(\.0).sorted() == ["BLPOP", "WATCH"], "\(refused) \(report["proxySummary"] ?? "")")
                #expect(refused.first { $0.0 == "BLPOP" }?.1 == [blpop])
                #expect(refused.first { $0.0 == "WATCH" }?.1 == [watch])
                #expect(refused.allSatisfy { ($0.2 ?? 0) >= 1 }, "the proxy counted them: \(refused)")
                #expect((report["proxySummary"] as? String)?.contains("mismatches:") == true)
                // The tests ran in the scratch database: the source's own data is as it was.
                #expect(try await production.send(RESPCommand("DBSIZE")) == .integer(1))
                #expect(try await production.send(RESPCommand("GET", "customer:1")) == .bulk("Ada"))
                await production.close()
                let junit = try String(contentsOfFile: "\(out)/verify.xml", encoding: .utf8)
                #expect(junit.contains("tests=\"16\" failures=\"2\""))
                let markdown = try String(contentsOfFile: "\(out)/verify.md", encoding: .utf8)
                #expect(markdown.contains("## Passes on Redis, fails on Upstash"))
                #expect(markdown.contains("| BLPOP | "))
                let ports = helperPorts(out)
                #expect(ports.count == 2)
                #expect(ports.allSatisfy { !isListening(port: $0) }, "the gateway and the proxy were stopped")
            }
        }
    }

    @Test("the upstash-redis shop (REST SDK) passes on both: through the lenient gateway on Redis, the target itself on Upstash")
    func restShop() async throws {
        try await withRedisServer { source in
            try await withGateway { target in
                let production = try source.client()
                #expect(try await production.send(RESPCommand("SET", "customer:1", "Ada")) == .ok)
                let out = try scratchFolder()
                let result = try await verifyApp(
                    "python3 -m pytest -q", source: source, target: target, out: out, ["--app-tests-dir", fixture("shop-rest"), "--json"])
                #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
                let byTest = verdicts(try json(result))
                #expect(byTest.count == 5)
                #expect(byTest.values.allSatisfy { $0 == "passes-on-both" }, "\(byTest)")
                // The suite flushes its database: the gateway served the scratch one, not the source's own data.
                #expect(try await production.send(RESPCommand("GET", "customer:1")) == .bulk("Ada"))
                await production.close()
                // Its Redis run went to the source (through the lenient gateway), its Upstash run to the target.
                for server in [source, target.redis] {
                    let client = try server.client()
                    let stats = try await client.send(RESPCommand("INFO", "commandstats")).text ?? ""
                    #expect(stats.contains("cmdstat_hset:calls=1,") && stats.contains("cmdstat_eval"), "\(stats)")
                    await client.close()
                }
            }
        }
    }

    @Test("a source with a password behind TLS: the app logs in on both sides, the gateway and the proxy get the --tls-* flags")
    func passwordAndTLS() async throws {
        let certs = try TLSCertificates()
        try await withRedisServer(arguments: ["--requirepass", "s3cret"], tls: certs) { source in
            try await withGateway { target in
                let out = try scratchFolder()
                // On Redis the app speaks TLS with its own CA settings to the scratch database; on Upstash it
                // speaks to the local proxy. redis-cli 7.0 sends `-u rediss://:pw@…` as AUTH with an empty user
                // name, so on Redis it is given the parts. The password is checked by its digest, so that the
                // command echoed in the report does not carry it. The app prints it; the report hides that.
                let command = """
                    echo "connecting with $REDIS_PASSWORD"; if [ "$REDIS_PORT" = \(source.port) ]; then \
                    cli="redis-cli --no-auth-warning --tls --cacert \(certs.caFile) -h $REDIS_HOST -p $REDIS_PORT -a $REDIS_PASSWORD -n 5"; \
                    else cli="redis-cli --no-auth-warning -u $REDIS_URL"; fi; \
                    test "$(printf %s "$REDIS_PASSWORD" | sha1sum | cut -c1-12)" = fef341f85d87 && $cli SET probe ok | grep -qx OK \
                    && curl -sf -H "Authorization: Bearer $UPSTASH_REDIS_REST_TOKEN" "$UPSTASH_REDIS_REST_URL/get/probe" | grep -q '"ok"'
                    """
                let result = try await offPool {
                    try runUpshift(
                        [
                            "verify", "--app-tests", command, "--source", "rediss://:s3cret@localhost:\(source.port)", "--tls-ca",
                            certs.caFile,
                            "--app-redis-db", "5", "--target", target.url, "--token", target.token, "--app-tests-out", out, "--json",
                        ], timeout: 120)
                }
                #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
                #expect(verdicts(try json(result)) == ["(the whole suite)": "passes-on-both"], "\(result.stdout)")
                // The app printed the password it was given; the report hides it.
                #expect(!result.stdout.contains("s3cret") && !result.stderr.contains("s3cret"))
                #expect(result.stdout.contains("connecting with ***"), "\(result.stdout)")
                #expect(result.stdout.contains("the --tls-* settings went to the gateway and the proxy"))
                let upstash = try target.redis.client()
                #expect(try await upstash.send(RESPCommand("GET", "probe")) == .bulk("ok"))
                await upstash.close()
            }
        }
    }

    @Test("a command that cannot start: exit status 2 and the shell's words, nothing run on Upstash")
    func cannotStart() async throws {
        try await withRedisServer { source in
            try await withGateway { target in
                let out = try scratchFolder()
                let result = try await verifyApp("no-such-test-runner tests/", source: source, target: target, out: out)
                #expect(result.status == 2)
                #expect(result.stderr.contains("the app's tests could not start"), "\(result.stderr)")
                #expect(result.stderr.contains("not found"))
                #expect(!FileManager.default.fileExists(atPath: "\(out)/upstash-1.log"))
                #expect(helperPorts(out).allSatisfy { !isListening(port: $0) })
            }
        }
    }

    @Test("a suite that hangs on Upstash is stopped at --app-tests-timeout and counts as failing there")
    func hangs() async throws {
        try await withRedisServer { source in
            try await withGateway { target in
                let out = try scratchFolder()
                let command = "test \"$REDIS_PORT\" = \(source.port) || { echo $$ > \(out)/hang.pid; exec sleep 120; }"
                let result = try await verifyApp(command, source: source, target: target, out: out, ["--app-tests-timeout", "2", "--json"])
                #expect(result.status == 1, "\(result.stderr)")
                let report = try json(result)
                let tests = report["tests"] as? [[String: Any]] ?? []
                #expect(tests.count == 1)
                #expect(tests.first?["verdict"] as? String == "passes-on-redis-fails-on-upstash")
                #expect((tests.first?["failure"] as? String)?.hasPrefix("timed out after 2 s") == true, "\(tests)")
                let pid = Int32(
                    (try String(contentsOfFile: "\(out)/hang.pid", encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines))
                #expect(pid.map { !alive($0) } == true, "the hung suite was stopped")
            }
        }
    }

    @Test("a suite with no JUnit is compared by exit status, the report says so; --env names get each side's URL")
    func exitStatusAndEnv() async throws {
        try await withRedisServer { source in
            try await withGateway { target in
                let out = try scratchFolder()
                // Each side's CACHE_URL is its own REDIS_URL; nothing of the caller's REDIS_* leaks in.
                let command =
                    "test \"$CACHE_URL\" = \"$REDIS_URL\" && test -z \"$LEGACY_REDIS_URL\" && redis-cli -u \"$CACHE_URL\" SET probe 1"
                let result = try await verifyApp(
                    command, source: source, target: target, out: out, ["--env", "CACHE_URL=redis-url", "--markdown", "\(out)/v.md"],
                    environment: ["LEGACY_REDIS_URL": "redis://production:6379"])
                #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
                #expect(result.stdout.contains("(the whole suite)"))
                #expect(result.stdout.contains("note: no run wrote JUnit, so only the suite's exit status is compared"))
                #expect(try String(contentsOfFile: "\(out)/v.md", encoding: .utf8).contains("only the suite's exit status is compared"))
                let scratch = try source.client("redis://127.0.0.1:\(source.port)/5")
                #expect(try await scratch.send(RESPCommand("GET", "probe")) == .bulk("1"))
                await scratch.close()
                let upstash = try target.redis.client()
                #expect(try await upstash.send(RESPCommand("GET", "probe")) == .bulk("1"), "the Upstash side's SET went through the proxy")
                await upstash.close()
            }
        }
    }

    @Test("--repeat 2: a suite whose two runs on one backend differ is flaky, and does not fail verify")
    func flaky() async throws {
        try await withRedisServer { source in
            try await withGateway { target in
                let out = try scratchFolder()
                let command = "f=\(out)/count-$REDIS_PORT; n=$(cat $f 2>/dev/null || echo 0); echo $((n + 1)) > $f; test $((n % 2)) = 0"
                let result = try await verifyApp(command, source: source, target: target, out: out, ["--repeat", "2", "--json"])
                #expect(result.status == 0, "\(result.stderr)")
                let tests = try json(result)["tests"] as? [[String: Any]] ?? []
                #expect(tests.first?["verdict"] as? String == "flaky")
                #expect(tests.first?["flakyOn"] as? [String] == ["redis", "upstash"])
                #expect(result.stderr.contains("(run 2 of 2)"))
            }
        }
    }

    @Test("Ctrl-C stops the app's tests, the gateway and the proxy, and exits 130")
    func interrupted() async throws {
        try await withRedisServer { source in
            try await withGateway { target in
                let out = try scratchFolder()
                let p = Process()
                p.executableURL = URL(fileURLWithPath: try upshiftBinary())
                p.arguments = [
                    "verify", "--app-tests", "echo $$ > \(out)/suite.pid; exec sleep 120", "--source", source.url, "--app-redis-db", "5",
                    "--target", target.url, "--token", target.token, "--app-tests-out", out,
                ]
                p.standardOutput = FileHandle.nullDevice
                p.standardError = FileHandle.nullDevice
                try p.run()
                reapWhenTestsDie(p.processIdentifier)
                var pid: Int32?
                for _ in 0..<1000 where pid == nil {
                    pid = (try? String(contentsOfFile: "\(out)/suite.pid", encoding: .utf8)).flatMap {
                        Int32($0.trimmingCharacters(in: .whitespacesAndNewlines))
                    }
                    try await Task.sleep(for: .milliseconds(20))
                }
                let suite = try #require(pid)
                let upshift = p.processIdentifier
                kill(upshift, SIGINT)
                let status = try await offPool {
                    var status: Int32 = 0
                    _ = waitpid(upshift, &status, 0)
                    return status
                }
                #expect((status >> 8) & 0xFF == 130, "wait status \(status)")
                #expect(!alive(suite))
                #expect(helperPorts(out).count == 2)
                #expect(helperPorts(out).allSatisfy { !isListening(port: $0) })
            }
        }
    }

    @Test("without a scratch database (or --app-tests-on-source-data) nothing runs: the tests would write to the source's data")
    func needsScratchDatabase() throws {
        let result = try runUpshift([
            "verify", "--app-tests", "true", "--source", "redis://127.0.0.1:1", "--target", "http://127.0.0.1:2", "--token", "t",
        ])
        #expect(result.status == 64)
        #expect(result.stderr.contains("--app-redis-db N"))
        let stray = try runUpshift(["verify", "--source", "redis://127.0.0.1:1", "--app-redis-db", "3"])
        #expect(stray.status == 64)
        #expect(stray.stderr.contains("--app-redis-db is for --app-tests"))
    }
}
