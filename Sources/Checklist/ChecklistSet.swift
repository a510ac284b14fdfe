/// One shipped checklist file: its name and its YAML text, compiled into the binary.
public struct BuiltInChecklistFile: Sendable, Hashable {
    /// The file's name in `checklists/` (`cache.yaml`).
    public let name: String
    /// The file's text, byte for byte.
    public let yaml: String
}

extension Checklist {
    /// The shipped checklists, parsed (in file-name order).
    public static func builtIn() throws -> [Checklist] {
        try builtInFiles.map { try parse(yaml: $0.yaml, file: "built-in \($0.name)") }
    }

    /// The checklists a run uses: `base` (the built-ins, or none), then each of `added` in turn;
    /// an added checklist with the area of one already there replaces it in place, a new area is appended.
    public static func merged(_ base: [Checklist], adding added: [Checklist]) -> [Checklist] {
        var lists = base
        for list in added {
            if let i = lists.firstIndex(where: { $0.area == list.area }) {
                lists[i] = list
            } else {
                lists.append(list)
            }
        }
        return lists
    }
}
