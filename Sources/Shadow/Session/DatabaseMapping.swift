import RESP
import RedisClient

/// Where writes made in a database other than the primary's own go on the mirror side, which has
/// one database (Upstash): under a key prefix, the mapping `upshift migrate --db N --key-prefix P`
/// uses for the backfill. A database without a prefix is not mirrored, and each write there is recorded.
public struct DatabaseMapping: Sendable, Equatable {
    /// Database number → the prefix its keys take on the mirror side.
    public var prefixes: [Int: [UInt8]]

    /// A mapping from database numbers to key prefixes (none: only the primary's own database is mirrored).
    public init(prefixes: [Int: [UInt8]] = [:]) {
        self.prefixes = prefixes
    }

    /// Parses `N=PREFIX` (`3=db3:`), as `--db-prefix` takes it.
    public static func parse(_ text: String) -> (Int, [UInt8])? {
        guard let eq = text.firstIndex(of: "="), let db = Int(text[..<eq]), db >= 0 else { return nil }
        return (db, Array(text[text.index(after: eq)...].utf8))
    }

    /// `argv` with every key prefixed, by the server's key specs.
    static func prefixed(_ argv: [[UInt8]], _ prefix: [UInt8], classifier: CommandClassifier) -> [[UInt8]] {
        var out = argv
        for i in classifier.keyIndices(in: argv) { out[i] = prefix + out[i] }
        return out
    }

    /// Which arguments of `argv` are keys. The table names the keys, not their places: an argument
    /// equal to a key is taken for one only when replacing it changes the keys the table finds.
    static func keyIndices(_ argv: [[UInt8]], table: CommandTable) -> [Int] {
        let keys = table.keys(in: argv)
        guard !keys.isEmpty else { return [] }
        let wanted = Set(keys)
        let candidates = argv.indices.dropFirst().filter { wanted.contains(argv[$0]) }
        if candidates.count == keys.count { return candidates }
        let marker = Array("\u{1}upshift-key-marker\u{1}".utf8)
        return candidates.filter { i in
            var probe = argv
            probe[i] = marker
            return table.keys(in: probe).contains(marker)
        }
    }
}
