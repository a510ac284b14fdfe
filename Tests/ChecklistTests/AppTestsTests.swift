import Checklist
import Foundation
import Testing

/// A JUnit file as pytest 9 writes it (`--junitxml`, xunit2), with a refusal in a failure.
private let pytestJUnit = """
    <?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest" errors="1" failures="1" skipped="1" tests="4" time="0.4">\
    <testcase classname="tests.test_cache" name="test_hit" time="0.010" />\
    <testcase classname="tests.test_jobs" name="test_wait" time="0.020"><failure message="redis.exceptions.ResponseError: ERR upshift: BLPOP is not served by Upstash over REST (blocking commands are not available over REST — poll, or use a queue service)">r = &lt;redis.client.Redis&gt;
    \u{1B}[31mE   redis.exceptions.ResponseError: ERR upshift: BLPOP is not served by Upstash over REST (…)\u{1B}[0m</failure></testcase>\
    <testcase classname="tests.test_lock" name="test_setup_breaks" time="0.001"><error message="failed on setup with &quot;ConnectionError&quot;"><![CDATA[ConnectionError: Error 111 connecting]]></error></testcase>\
    <testcase classname="tests.test_misc" name="test_later" time="0.000"><skipped type="pytest.skip" message="not today">tests/test_misc.py:3: not today</skipped></testcase>\
    </testsuite></testsuites>
    """

private func run(_ backend: AppBackend, attempt: Int = 1, exit: Int32 = 0, _ tests: [AppTestCase]?) -> AppTestRun {
    AppTestRun(
        backend: backend, attempt: attempt, end: AppRunEnd(.exited, code: exit), seconds: 1, tests: tests, junitNote: nil,
        junitPath: nil, outputPath: "/dev/null", outputTail: exit == 0 ? "" : "1 failed")
}

private func test(_ id: String, _ outcome: AppTestOutcome, _ message: String? = nil) -> AppTestCase {
    AppTestCase(id: id, outcome: outcome, message: message)
}

@Suite("verify --app-tests: reading JUnit, classifying, refusals")
struct AppTestsTests {
    @Test("pytest's JUnit: passes, failures with their text (stray control characters tolerated), setup errors, skips")
    func readsPytest() throws {
        let cases = try JUnitReader.read(Data(pytestJUnit.utf8))
        #expect(
            cases.map(\.id) == [
                "tests.test_cache::test_hit", "tests.test_jobs::test_wait", "tests.test_lock::test_setup_breaks",
                "tests.test_misc::test_later",
            ])
        #expect(cases.map(\.outcome) == [.passed, .failed, .failed, .skipped])
        #expect(cases[1].message?.hasPrefix("redis.exceptions.ResponseError: ERR upshift: BLPOP") == true)
        #expect(cases[1].details?.contains("E   redis.exceptions.ResponseError") == true)
        #expect(cases[2].message == "failed on setup with \"ConnectionError\"")
        #expect(cases[2].details == "ConnectionError: Error 111 connecting")
        #expect(cases[3].message == "not today")
        #expect(cases[0].seconds == 0.01)
    }

    @Test("a bare <testsuite> root, nested suites, a repeated id keeps its worst outcome; junk is an error")
    func readsOtherShapes() throws {
        let jest = """
            <testsuites><testsuite name="a"><testsuite name="b"><testcase name="adds" classname="math adds"/>\
            <testcase name="adds" classname="math adds"><failure>expected 2</failure></testcase></testsuite></testsuite></testsuites>
            """
        let cases = try JUnitReader.read(Data(jest.utf8))
        #expect(cases.map(\.id) == ["math adds::adds"])
        #expect(cases[0].outcome == .failed && cases[0].message == "expected 2")
        #expect(try JUnitReader.read(Data("<testsuite><testcase name=\"x\"/></testsuite>".utf8)).map(\.id) == ["x"])
        #expect(throws: ChecklistError.self) { try JUnitReader.read(Data("not xml at all <".utf8)) }
        #expect(throws: ChecklistError.self) { try JUnitReader.read(Data("<html><body/></html>".utf8)) }
    }

    @Test(
        "each pair of outcomes gets its verdict",
        arguments: [
            (AppTestOutcome.passed, AppTestOutcome.passed, AppTestVerdict.passesOnBoth),
            (.passed, .failed, .failsOnUpstash), (.passed, .notRun, .failsOnUpstash),
            (.failed, .failed, .failsOnBoth), (.notRun, .failed, .failsOnBoth),
            (.failed, .passed, .failsOnRedis), (.skipped, .failed, .skipped), (.passed, .skipped, .skipped),
        ])
    func verdicts(redis: AppTestOutcome, upstash: AppTestOutcome, verdict: AppTestVerdict) {
        #expect(AppTestVerdict.of(redis: redis, upstash: upstash) == verdict)
    }

    @Test("test by test: regressions carry Upstash's failure text and refusals; a test missing on Upstash failed there")
    func comparesTests() {
        let blpop = "ResponseError: ERR upshift: BLPOP is not served by Upstash over REST (blocking commands are not available over REST)"
        let runs = [
            run(.redis, [test("a", .passed), test("b", .passed), test("c", .failed, "boom"), test("d", .passed)]),
            run(.upstash, exit: 1, [test("a", .passed), test("b", .failed, blpop), test("c", .failed, "boom")]),
        ]
        let report = AppTestsReport(command: "pytest", runs: runs, proxySummary: nil, seconds: 2)
        #expect(report.basis == .junit)
        #expect(report.tests.map(\.verdict) == [.passesOnBoth, .failsOnUpstash, .failsOnBoth, .failsOnUpstash])
        #expect(report.regressions.map(\.id) == ["b", "d"])
        #expect(report.tests[1].failure == blpop)
        #expect(report.tests[1].refused == [RefusedCommand(command: "BLPOP", reason: RefusalText.reason(for: "BLPOP"))])
        #expect(report.tests[3].failure?.contains("not in the JUnit of the run on Upstash") == true)
        #expect(!report.isPassing)
        #expect(report.refused.map(\.command) == ["BLPOP"] && report.refused[0].tests == ["b"])
    }

    @Test("--repeat 2: a test whose two runs on one backend differ is flaky, not a regression")
    func flaky() {
        let runs = [
            run(.redis, attempt: 1, [test("a", .passed), test("b", .passed)]),
            run(.upstash, attempt: 1, [test("a", .passed), test("b", .failed)]),
            run(.redis, attempt: 2, [test("a", .failed), test("b", .passed)]),
            run(.upstash, attempt: 2, [test("a", .passed), test("b", .failed)]),
        ]
        let report = AppTestsReport(command: "pytest", runs: runs, proxySummary: nil, seconds: 4)
        #expect(report.tests.map(\.verdict) == [.flaky, .failsOnUpstash])
        #expect(report.tests[0].flakyOn == [.redis])
        #expect(report.tests[0].redis == [.passed, .failed])
        #expect(report.table().contains("flaky on Redis"))
    }

    @Test("no JUnit anywhere: the suite's exit status is compared, and the report says so")
    func exitStatusOnly() {
        let report = AppTestsReport(
            command: "make test", runs: [run(.redis, nil), run(.upstash, exit: 2, nil)], proxySummary: nil, seconds: 1)
        #expect(report.basis == .exitStatus)
        #expect(report.tests.map(\.id) == [AppTestsComparison.wholeSuite])
        #expect(report.tests[0].verdict == .failsOnUpstash)
        #expect(report.tests[0].failure == "exit status 2: 1 failed")
        #expect(report.notes.first?.contains("only the suite's exit status is compared") == true)
        #expect(report.table().contains("note: no run wrote JUnit"))
    }

    @Test("refusals in failure texts: the proxy's words, SELECT n, and Upstash's own REST error")
    func refusals() {
        let text = """
            E   ResponseError: ERR upshift: WATCH is not served by Upstash over REST (WATCH/UNWATCH/DISCARD and bare MULTI/EXEC are not available; send the transaction to /multi-exec)
            E   ResponseError: ERR upshift: the primary has a single database 0
            E   upstash_redis.errors.UpstashError: ERR Command is not available: 'blpop'
            E   ResponseError: ERR upshift: WATCH is not served by Upstash over REST (again)
            """
        #expect(RefusalText.refusals(in: text).map(\.command) == ["WATCH", "SELECT", "BLPOP"])
        #expect(RefusalText.reason(for: "SELECT") == "Upstash has a single database 0")
        #expect(RefusalText.reason(for: "XREAD").hasPrefix("blocking commands"))
        #expect(RefusalText.refusals(in: "ERR upshift: Upstash did not answer: timeout").isEmpty)
    }

    @Test("the proxy's summary: refused commands are listed with their tests, the handshake it answered apart")
    func proxySummary() {
        let summary = """
            shadow: 310 commands proxied, 150 mirrored, 40 connections
            mismatches: none
            commands Upstash does not serve over REST (the handshake answered by the proxy, the rest refused): CLIENT 80, BLPOP 1, WATCH 1, SUBSCRIBE 2
            """
        #expect(RefusalText.proxyCounts(inSummary: summary) == ["CLIENT": 80, "BLPOP": 1, "WATCH": 1, "SUBSCRIBE": 2])
        let blpop = "ERR upshift: BLPOP is not served by Upstash over REST (blocking)"
        let report = AppTestsReport(
            command: "pytest", runs: [run(.redis, [test("w", .passed)]), run(.upstash, exit: 1, [test("w", .failed, blpop)])],
            proxySummary: summary, seconds: 1)
        #expect(report.refused.map(\.command) == ["BLPOP", "SUBSCRIBE", "WATCH"])
        #expect(report.refused[0].count == 1 && report.refused[0].tests == ["w"])
        #expect(report.refused[1].tests.isEmpty && report.refused[1].count == 2)
        #expect(report.answeredByProxy == ["CLIENT": 80])
        let table = report.table()
        #expect(table.contains("BLPOP ×1: "))
        #expect(table.contains("Answered by the proxy itself, as after the flip: CLIENT 80"))
    }

    @Test("the report as JUnit, Markdown and JSON: only the regression fails; fails-on-both and flaky are skipped with why")
    func renderings() throws {
        let runs = [
            run(.redis, exit: 1, [test("t.m::ok", .passed), test("t.m::bad", .failed, "both"), test("t.m::moved", .passed)]),
            run(
                .upstash, exit: 1,
                [test("t.m::ok", .passed), test("t.m::bad", .failed, "both"), test("t.m::moved", .failed, "ERR <x> & \"y\"")]),
        ]
        let report = AppTestsReport(command: "pytest -q", runs: runs, proxySummary: "shadow: 3 commands proxied", seconds: 1)
        let junit = report.junit()
        #expect(junit.contains("failures=\"1\" skipped=\"1\""))
        #expect(junit.contains("<testcase classname=\"t.m\" name=\"moved\""))
        #expect(junit.contains("message=\"passes on Redis, fails on Upstash: ERR &lt;x&gt; &amp; &quot;y&quot;\""))
        #expect(junit.contains("<skipped message=\"fails on both: both\"/>"))
        #expect(try JUnitReader.read(Data(junit.utf8)).map(\.outcome) == [.passed, .skipped, .failed])
        let markdown = report.markdown()
        #expect(markdown.contains("## Passes on Redis, fails on Upstash\n\n| test | failure on Upstash | refused |"))
        #expect(markdown.contains("| t.m::moved | ERR <x> & \"y\" |  |"))
        #expect(markdown.contains("shadow: 3 commands proxied"))
        let json = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(report)) as? [String: Any]
        #expect(json?["passing"] as? Bool == false)
        #expect((json?["verdicts"] as? [String: Int]) == ["passes-on-both": 1, "fails-on-both": 1, "passes-on-redis-fails-on-upstash": 1])
        let back = try JSONDecoder().decode(AppTestsReport.self, from: try JSONEncoder().encode(report))
        #expect(back.tests.map(\.verdict) == report.tests.map(\.verdict))
    }

    @Test("the app's URLs: a scratch database replaces the URL's own, credentials and TLS settings kept as written")
    func urls() {
        #expect(AppRedisURL.withDatabase("redis://127.0.0.1:6379", 9) == "redis://127.0.0.1:6379/9")
        #expect(AppRedisURL.withDatabase("redis://:p%2Fw@h:1/0", 3) == "redis://:p%2Fw@h:1/3")
        #expect(AppRedisURL.withDatabase("rediss://u:p@h:1/2?tls-ca=/ca.pem&db=2", 5) == "rediss://u:p@h:1/5?tls-ca=/ca.pem")
        #expect(AppRedisURL.withDatabase("unix:///run/redis.sock?db=1", 4) == "unix:///run/redis.sock?db=4")
        #expect(AppRedisURL.userInfo("redis://:p%2Fw@h:1/0") == ":p%2Fw")
        #expect(AppRedisURL.userInfo("redis://h:1") == nil)
        #expect(AppRedisURL.adding([("tls-ca", "/a b&c.pem")], to: "rediss://h:1/2") == "rediss://h:1/2?tls-ca=/a%20b%26c.pem")
        #expect(AppRedisURL.adding([("tls-insecure", "true")], to: "rediss://h:1?db=2") == "rediss://h:1?db=2&tls-insecure=true")
    }

    @Test("the environment: nothing naming Redis or Upstash leaks in; standard and --env names get each side's values")
    func environment() throws {
        let env = try AppEnvironment(parsing: ["CACHE_URL=redis-url", "KV_REST_API_TOKEN=rest-token"])
        let endpoints = AppEndpoints(
            redisURL: "redis://127.0.0.1:7/2", redisHost: "127.0.0.1", redisPort: 7, redisDB: 2, redisPassword: nil,
            restURL: "http://127.0.0.1:8", restToken: "tok")
        let vars = env.variables(
            for: endpoints,
            inheriting: ["PATH": "/bin", "MY_REDIS_HOST": "prod", "upstash_thing": "x", "CACHE_URL": "prod", "REDIS_PASSWORD": "old"])
        #expect(
            vars == [
                "PATH": "/bin", "REDIS_URL": "redis://127.0.0.1:7/2", "REDIS_HOST": "127.0.0.1", "REDIS_PORT": "7", "REDIS_DB": "2",
                "UPSTASH_REDIS_REST_URL": "http://127.0.0.1:8", "UPSTASH_REDIS_REST_TOKEN": "tok", "CACHE_URL": "redis://127.0.0.1:7/2",
                "KV_REST_API_TOKEN": "tok",
            ])
        #expect(throws: ChecklistError.self) { try AppEnvironment(parsing: ["CACHE_URL"]) }
        #expect(throws: ChecklistError.self) { try AppEnvironment(parsing: ["CACHE_URL=source-url-typo"]) }
        #expect(throws: ChecklistError.self) { try AppEnvironment(parsing: ["1BAD=redis-url"]) }
    }
}
