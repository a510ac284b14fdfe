/// Why the two sides answered differently. Only `diff` is a failure.
public enum MismatchClass: String, Sendable, CaseIterable, Comparable {
    /// A real divergence.
    case diff
    /// Another connection wrote one of the command's keys between the two executions.
    case race
    /// The command's reply may differ by nature (SPOP, RANDOMKEY, TIME, SCAN cursors, INFO…).
    case nondeterministic
    /// TTL/PTTL replies within the tolerance.
    case ttlSkew = "ttl-skew"
    /// The mirror returned an error the primary did not.
    case shadowError = "shadow-error"
    /// The mirror could not be reached, or did not answer in time.
    case shadowUnavailable = "shadow-unavailable"
    /// The mirror queue was full (or shutdown's deadline passed): the command never reached the mirror.
    case dropped
    /// A write the mirror was not given, recorded so it is never lost silently: in a database
    /// without a `--db-prefix`, a command the mirror side cannot run, a replication stream.
    case notMirrored = "not-mirrored"
    /// A client sent bytes that are not a request: closed, as Redis closes it; nothing of it is recorded.
    case protocolError = "protocol-error"

    /// How much a class matters when a transaction's elements disagree in several ways.
    var severity: Int {
        switch self {
        case .diff: return 6
        case .shadowUnavailable: return 5
        case .dropped: return 5
        case .notMirrored: return 5
        case .protocolError: return 0
        case .shadowError: return 4
        case .race: return 3
        case .nondeterministic: return 2
        case .ttlSkew: return 1
        }
    }

    public static func < (a: MismatchClass, b: MismatchClass) -> Bool { a.rawValue < b.rawValue }
}
