import ArgumentParser

/// A duration on the command line: `500ms`, `30s`, `5m`, `1h`, or a bare number of seconds.
struct DurationArgument: ExpressibleByArgument, Sendable, Hashable {
    /// The text as given, for `--help`'s defaults.
    let text: String
    let duration: Duration

    init?(argument: String) {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        let trimmed = argument.trimmingCharacters(in: .whitespaces)
        var seconds: Double?
        // "ms" before "m" and "s": the longest suffix that fits wins
        for (suffix, scale) in units.sorted(by: { $0.0.count > $1.0.count }) where trimmed.hasSuffix(suffix) {
            seconds = Double(trimmed.dropLast(suffix.count)).map { $0 * scale }
            break
        }
        if seconds == nil { seconds = Double(trimmed) }
        guard let seconds, seconds.isFinite, seconds >= 0, seconds < 1e9 else { return nil }
        text = argument
        duration = .milliseconds(Int64((seconds * 1000).rounded()))
    }

    /// The duration in seconds.
    var seconds: Double { Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18 }

    var defaultValueDescription: String { text }
}

extension DurationArgument: ExpressibleByStringLiteral {
    init(stringLiteral value: String) {
        guard let parsed = DurationArgument(argument: value) else { preconditionFailure("not a duration: \(value)") }
        self = parsed
    }
}
