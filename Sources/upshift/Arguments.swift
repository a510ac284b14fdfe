import ArgumentParser
import Gateway
import Logging
import Migration
import RedisClient
import Report
import Shadow
import UpstashProfile

// Every enumerated option is one of these: ArgumentParser refuses any other value with a usage
// error (exit 64) that lists the valid ones, and `--help` lists them too.

/// `migrate --type`: the key types SCAN's TYPE filter names, as `TYPE key` answers them.
enum KeyTypeArgument: String, CaseIterable, ExpressibleByArgument {
    case string, hash, list, set, zset, stream
    /// A RedisJSON document.
    case json = "ReJSON-RL"

    init?(argument: String) {
        // Redis matches type names without regard to case; `json` is the name people use.
        let lower = argument.lowercased()
        guard let match = Self.allCases.first(where: { $0.rawValue.lowercased() == lower || "\($0)" == lower }) else { return nil }
        self = match
    }
}

extension MigrationOptions.Mode: ExpressibleByArgument {}
extension MigrationOptions.Conflict: ExpressibleByArgument {}
extension ReadFrom: ExpressibleByArgument {}
extension ReportFormat: ExpressibleByArgument {}
extension Compatibility: ExpressibleByArgument {}
extension ShadowConfiguration.Mode: ExpressibleByArgument {}
extension Logger.Level: @retroactive ExpressibleByArgument {}

extension UpstashPlan: ExpressibleByArgument {
    public init?(argument: String) {
        guard let plan = UpstashPlan.named(argument) else { return nil }
        self = plan
    }

    public static var allValueStrings: [String] { all.map(\.id) }

    public var defaultValueDescription: String { id }
}

/// `shadow --primary-side`: which side answers the app's clients.
enum PrimarySide: String, CaseIterable, ExpressibleByArgument {
    /// Today's Redis answers; the target is mirrored to.
    case redis
    /// The flip: the target answers, `--primary` keeps every write for rollback.
    case upstash
}
