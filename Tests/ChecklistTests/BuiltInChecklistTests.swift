import Foundation
import Testing

@testable import Checklist

@Suite("the checklist built into the binary")
struct BuiltInChecklistTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("checklists")

    @Test("is checklists/*.yaml byte for byte (after editing one, run scripts/embed-checklists.py)")
    func inSync() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.folder.path)
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
        #expect(Checklist.builtInFiles.map(\.name) == names, "run scripts/embed-checklists.py")
        for file in Checklist.builtInFiles {
            let text = try String(contentsOf: Self.folder.appendingPathComponent(file.name), encoding: .utf8)
            #expect(file.yaml == text, "\(file.name) differs from its built-in copy: run scripts/embed-checklists.py")
        }
    }

    @Test("parses, one area per file, the same as loading the folder")
    func parses() throws {
        let builtIn = try Checklist.builtIn()
        let loaded = try Checklist.load(path: Self.folder.path)
        #expect(builtIn.map(\.area) == loaded.map(\.area))
        #expect(builtIn.map { $0.scenarios.map(\.name) } == loaded.map { $0.scenarios.map(\.name) })
        #expect(Set(builtIn.map(\.area)).count == builtIn.count)
    }

    @Test("a checklist added with the area of a built-in one replaces it in place; a new area is appended")
    func merging() throws {
        let base = try Checklist.builtIn()
        let cache = try Checklist.parse(yaml: "area: cache\nscenarios:\n  - name: mine\n    steps: [{send: [PING], expect: PONG}]\n")
        let extra = try Checklist.parse(yaml: "area: extra\nscenarios:\n  - name: more\n    steps: [{send: [PING], expect: PONG}]\n")
        let merged = Checklist.merged(base, adding: [cache, extra])
        #expect(merged.map(\.area) == base.map(\.area) + ["extra"])
        #expect(merged.first { $0.area == "cache" }?.scenarios.map(\.name) == ["mine"])
    }
}
