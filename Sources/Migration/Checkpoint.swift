import Foundation

/// Progress saved after each acknowledged batch, so a killed run resumes where it stopped.
public struct Checkpoint: Codable, Sendable {
    /// Redacted; a resume must name the same source, target and selection.
    public var source: String
    public var target: String
    public var selection: String
    /// The options that decide which keys the run copies, by flag (`--match` → `user:*`); a
    /// resume must give the same. Nil in a checkpoint written before they were recorded one by one.
    public var settings: [String: String]?
    /// The SCAN cursor to continue from ("0" before the first page, and again when done).
    public var cursor: String
    /// With `--keys-from`: how many keys of the list are done.
    public var offset: Int
    public var done: Bool
    public var summary: MigrationSummary

    public init(
        source: String, target: String, selection: String, settings: [String: String]? = nil, cursor: String, offset: Int, done: Bool,
        summary: MigrationSummary
    ) {
        self.source = source
        self.target = target
        self.selection = selection
        self.settings = settings
        self.cursor = cursor
        self.offset = offset
        self.done = done
        self.summary = summary
    }

    /// Writes atomically: a temporary file, then a rename, so a kill never leaves half a file.
    public func save(to path: String) throws {
        let data = try JSONEncoder().encode(self)
        let tmp = path + ".tmp"
        guard FileManager.default.createFile(atPath: tmp, contents: data) else {
            throw MigrationError("cannot write checkpoint \(tmp)")
        }
        if rename(tmp, path) != 0 { throw MigrationError("cannot move checkpoint into place at \(path)") }
    }

    /// Reads a checkpoint; a missing, empty or unreadable file is an error that says so in words.
    public static func load(from path: String) throws -> Checkpoint {
        guard let data = try existing(at: path) else {
            throw MigrationError("no checkpoint at \(path): nothing to resume; run without --resume to start the copy")
        }
        return try decode(data, path: path)
    }

    /// The checkpoint at `path`, or nil when there is none (no file, or an empty one, as `mktemp` leaves).
    static func loadIfPresent(from path: String) throws -> Checkpoint? {
        try existing(at: path).map { try decode($0, path: path) }
    }

    private static func existing(at path: String) throws -> Data? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else { throw MigrationError("cannot read checkpoint \(path)") }
        return data.isEmpty ? nil : data
    }

    private static func decode(_ data: Data, path: String) throws -> Checkpoint {
        do {
            return try JSONDecoder().decode(Checkpoint.self, from: data)
        } catch {
            // Swift's DecodingError speaks of coding paths; a person needs to know what to do.
            throw MigrationError(
                "checkpoint \(path) is corrupt (not a checkpoint upshift wrote, or damaged): "
                    + "--restart starts the copy over (and overwrites it), or give another --checkpoint file")
        }
    }

    /// Why this checkpoint cannot be resumed by a run with `settings`: one phrase per option that
    /// differs, as `--match is user:* here, * in the checkpoint`; empty when it can.
    func differences(from settings: [String: String], source: String, target: String, selection: String) -> [String] {
        guard let recorded = self.settings else {
            // an older checkpoint: only the summary line of what it selected is known
            var out: [String] = []
            if self.source != source { out.append("--source is \(source) here, \(self.source) in the checkpoint") }
            if self.target != target { out.append("--target is \(target) here, \(self.target) in the checkpoint") }
            if self.selection != selection { out.append("the selection is \(selection) here, \(self.selection) in the checkpoint") }
            return out
        }
        return Self.settingOrder.compactMap { flag in
            let now = settings[flag] ?? "-"
            let then = recorded[flag] ?? "-"
            return now == then ? nil : "\(flag) is \(now) here, \(then) in the checkpoint"
        }
    }

    /// The options a checkpoint records, in the order their differences are listed.
    static let settingOrder = ["--source", "--target", "--match", "--type", "--keys-from", "--key-prefix", "--shard", "--dry-run"]
}

/// A migration that cannot go on, with a one-line reason.
public struct MigrationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A run stopped on request (`Migrator.stop()`) before it was done: the batches in flight
/// finished, the checkpoint (if any) records them, and `summary` counts what was copied so far.
public struct MigrationInterrupted: Error, CustomStringConvertible {
    /// The totals up to the last batch that finished.
    public let summary: MigrationSummary
    /// Where progress was saved, nil without a checkpoint file.
    public let checkpointPath: String?

    public init(summary: MigrationSummary, checkpointPath: String?) {
        self.summary = summary
        self.checkpointPath = checkpointPath
    }

    public var description: String {
        let saved =
            checkpointPath.map { "progress is saved in \($0): resume with --resume" } ?? "no --checkpoint was given: a new run starts over"
        return "stopped after \(summary.keysScanned) keys scanned, \(summary.keysCopied) copied; \(saved)"
    }
}
