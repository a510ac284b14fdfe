import ArgumentParser
import Checklist
import Foundation

/// What `verify` prints and writes, for the checklist's report and the app tests' alike.
protocol VerifyReport: Encodable {
    func table() -> String
    func junit() -> String
    func markdown() -> String
    var isPassing: Bool { get }
}

extension VerificationReport: VerifyReport {}
extension AppTestsReport: VerifyReport {}

/// Writes the JUnit and Markdown files asked for, prints the table (or JSON), and fails with exit
/// status 1 when the report did not hold.
func emit(_ report: some VerifyReport, junit: String?, markdown: String?, json: Bool) throws {
    if let junit { try save(report.junit(), junit) }
    if let markdown { try save(report.markdown(), markdown) }
    if json {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        print(String(decoding: try encoder.encode(report), as: UTF8.self))
    } else {
        print(report.table())
    }
    if !report.isPassing { throw ExitCode(1) }
}

private func save(_ text: String, _ path: String) throws {
    guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else { throw CLIError("cannot write \(path)") }
}
