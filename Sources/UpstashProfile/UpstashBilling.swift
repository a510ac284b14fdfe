/// How Upstash counts the commands it bills: every count a user sees (a summary, a dry run, a
/// report, the pacer) uses this one rule.
///
/// A script is billed as its call (EVAL, EVALSHA, FCALL …) plus every command it runs, as
/// Upstash's rate-limit docs count a fixed-window `limit()`: EVAL, INCR, PEXPIRE = 3 commands.
/// Connection and server bookkeeping is free.
public enum UpstashBilling {
    /// Commands Upstash does not bill.
    public static let free: Set<String> = ["AUTH", "HELLO", "SELECT", "COMMAND", "CONFIG", "INFO", "PING", "RESET", "QUIT"]

    /// The billed commands of one command named `name` (upper case) whose script, if it is one, runs `scriptCalls` commands.
    public static func billed(_ name: String, scriptCalls: Int = 0) -> Int {
        free.contains(name) ? 0 : 1 + scriptCalls
    }

    /// The billed total of a server's `INFO commandstats` (`cmdstat_set:calls=3,…` lines; Redis 7
    /// names subcommands `cmdstat_config|get`). Commands run by scripts are counted there too, so
    /// this is what Upstash would bill for the same traffic.
    public static func billed(commandStats info: String) -> Int {
        var total = 0
        // "\r\n" is one Character in Swift: split on newlines, not on "\n"
        for line in info.split(whereSeparator: \.isNewline) where line.hasPrefix("cmdstat_") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[line.index(line.startIndex, offsetBy: 8)..<colon].split(separator: "|").first.map(String.init) ?? ""
            guard !free.contains(name.uppercased()) else { continue }
            let fields = line[line.index(after: colon)...].split(separator: ",")
            if let calls = fields.first(where: { $0.hasPrefix("calls=") }).flatMap({ Int($0.dropFirst(6)) }) { total += calls }
        }
        return total
    }
}
