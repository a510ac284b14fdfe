import Foundation

/// Progress saved after each acknowledged batch, so a killed run resumes where it stopped.
public struct Checkpoint: Codable, Sendable {
    /// Redacted; a resume must name the same source, target and selection.
    public var source: String
    public var target: String
    public var selection: String
    /// The SCAN cursor to continue from ("0" before the first page, and again when done).
    public var cursor: String
    /// With `--keys-from`: how many keys of the list are done.
    public var offset: Int
    public var done: Bool
    public var summary: MigrationSummary

    /// Writes atomically: a temporary file, then a rename, so a kill never leaves half a file.
    public func save(to path: String) throws {
        let data = try JSONEncoder().encode(self)
        let tmp = path + ".tmp"
        guard FileManager.default.createFile(atPath: tmp, contents: data) else {
            throw MigrationError("cannot write checkpoint \(tmp)")
        }
        if rename(tmp, path) != 0 { throw MigrationError("cannot move checkpoint into place at \(path)") }
    }

    public static func load(from path: String) throws -> Checkpoint {
        guard let data = FileManager.default.contents(atPath: path) else { throw MigrationError("no checkpoint at \(path)") }
        do {
            return try JSONDecoder().decode(Checkpoint.self, from: data)
        } catch {
            throw MigrationError("checkpoint \(path) is unreadable: \(error)")
        }
    }
}

/// A migration that cannot go on, with a one-line reason.
public struct MigrationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
