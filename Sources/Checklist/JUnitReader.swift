import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// One test's outcome in one run of the app's suite.
public enum AppTestOutcome: String, Sendable, Codable, Comparable {
    case passed
    case skipped
    case failed
    /// The run did not report the test (it stopped early, or wrote no JUnit).
    case notRun = "not-run"

    /// Better before worse: passed, skipped, failed, not run.
    public static func < (a: AppTestOutcome, b: AppTestOutcome) -> Bool { a.rank < b.rank }

    private var rank: Int {
        switch self {
        case .passed: return 0
        case .skipped: return 1
        case .failed: return 2
        case .notRun: return 3
        }
    }
}

/// One test case as a run's JUnit file reported it.
public struct AppTestCase: Sendable, Codable, Equatable {
    /// `classname::name` (just `name` without a class): the key that matches a test across runs.
    public var id: String
    public var outcome: AppTestOutcome
    /// The failure's message (or the skip's reason); nil when it passed.
    public var message: String?
    /// The failure's text (a traceback), its end kept when long.
    public var details: String?
    public var seconds: Double

    /// A test case from its parts.
    public init(id: String, outcome: AppTestOutcome, message: String? = nil, details: String? = nil, seconds: Double = 0) {
        self.id = id
        self.outcome = outcome
        self.message = message
        self.details = details
        self.seconds = seconds
    }
}

/// Reads the JUnit XML that pytest (`--junitxml`), jest-junit, vitest, Go's and Ruby's JUnit
/// formatters write: every `<testcase>` at any depth, failed when it holds `<failure>` or `<error>`.
public enum JUnitReader {
    /// The longest failure text kept per test; the end of a traceback says the most.
    public static let maxDetails = 4000

    /// The test cases of a JUnit document, in file order, one per id (the worst outcome when an id repeats).
    public static func read(_ data: Data) throws(ChecklistError) -> [AppTestCase] {
        // Some writers leave a traceback's terminal colours (ESC) in: XML 1.0 forbids them, so they become spaces.
        let cleaned = Data(data.map { $0 < 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D ? 0x20 : $0 })
        let parser = XMLParser(data: cleaned)
        let collector = Collector()
        parser.delegate = collector
        guard parser.parse() else {
            let why = parser.parserError.map { "\($0.localizedDescription)" } ?? "not XML"
            throw ChecklistError("unreadable JUnit (line \(parser.lineNumber)): \(why)")
        }
        guard collector.sawRoot else { throw ChecklistError("not JUnit: no <testsuites> or <testsuite>") }
        var order: [String] = []
        var byId: [String: AppTestCase] = [:]
        for test in collector.cases {
            if let seen = byId[test.id] {
                if test.outcome > seen.outcome { byId[test.id] = test }
            } else {
                order.append(test.id)
                byId[test.id] = test
            }
        }
        return order.map { byId[$0]! }
    }

    /// The test cases of a JUnit file.
    public static func read(path: String) throws(ChecklistError) -> [AppTestCase] {
        guard let data = FileManager.default.contents(atPath: path) else { throw ChecklistError("cannot read \(path)") }
        return try read(data)
    }

    /// Collects `<testcase>` elements; used by one parser on one thread.
    private final class Collector: NSObject, XMLParserDelegate {
        var cases: [AppTestCase] = []
        var sawRoot = false
        private var current: AppTestCase?
        private var text: String?

        func parser(
            _ parser: XMLParser, didStartElement element: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            switch element {
            case "testsuites", "testsuite":
                sawRoot = true
            case "testcase":
                let name = attributes["name"] ?? "(unnamed)"
                let classname = attributes["classname"] ?? attributes["class"] ?? ""
                current = AppTestCase(
                    id: classname.isEmpty ? name : "\(classname)::\(name)", outcome: .passed,
                    seconds: attributes["time"].flatMap(Double.init) ?? 0)
            case "failure" where current != nil, "error" where current != nil:
                current!.outcome = .failed
                current!.message = Self.firstLine(attributes["message"]) ?? current!.message
                text = ""
            case "skipped" where current != nil:
                if current!.outcome == .passed { current!.outcome = .skipped }
                current!.message = current!.message ?? Self.firstLine(attributes["message"])
            default:
                break
            }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            text? += string
        }

        func parser(_ parser: XMLParser, foundCDATA block: Data) {
            text? += String(decoding: block, as: UTF8.self)
        }

        func parser(_ parser: XMLParser, didEndElement element: String, namespaceURI: String?, qualifiedName: String?) {
            switch element {
            case "failure", "error":
                if let body = text?.trimmingCharacters(in: .whitespacesAndNewlines), !body.isEmpty, current != nil {
                    let joined = (current!.details.map { $0 + "\n" } ?? "") + body
                    current!.details = joined.count > JUnitReader.maxDetails ? "…" + String(joined.suffix(JUnitReader.maxDetails)) : joined
                    if current!.message == nil { current!.message = Self.firstLine(body) }
                }
                text = nil
            case "testcase":
                if let current { cases.append(current) }
                current = nil
            default:
                break
            }
        }

        private static func firstLine(_ text: String?) -> String? {
            guard let text else { return nil }
            let line = text.split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            return line.isEmpty ? nil : line
        }
    }
}
