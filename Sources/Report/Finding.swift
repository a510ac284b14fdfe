/// How much a finding stands in the way of running on Upstash.
public enum Severity: String, Codable, Sendable, Hashable, CaseIterable, Comparable {
    /// The migration, or the app on Upstash, fails until this is fixed.
    case blocker
    /// Works only after a change to the app or the plan.
    case warning
    /// Worth knowing; nothing has to change.
    case info

    public static func < (a: Severity, b: Severity) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// One key or command a finding is about.
public struct FindingItem: Codable, Sendable, Hashable {
    /// The key (UTF-8 shown, other bytes as `\xNN`) or the command.
    public var subject: String
    public var database: Int?
    /// The key's or value's size, when that is the point.
    public var bytes: Int?
    /// Calls of a command since the server started.
    public var calls: Int?
    public var type: String?

    public init(subject: String, database: Int? = nil, bytes: Int? = nil, calls: Int? = nil, type: String? = nil) {
        self.subject = subject
        self.database = database
        self.bytes = bytes
        self.calls = calls
        self.type = type
    }
}

/// Something about the source that matters on Upstash, with what to do about it.
public struct Finding: Codable, Sendable, Hashable {
    /// A stable identifier CI can match on: `key-too-long`, `command-blpop`, `database-3`, …
    public var id: String
    public var severity: Severity
    public var title: String
    /// How many keys, calls, scripts or libraries (in the sample, when sampling).
    public var count: Int
    /// What `count` counts: `keys`, `calls`, `scripts`, `libraries`, `bytes`.
    public var unit: String
    /// The count extrapolated to the whole keyspace, when the census was a sample.
    public var estimatedCount: Int?
    /// The first few keys or commands involved.
    public var items: [FindingItem]
    /// What to do about it.
    public var action: String
}
