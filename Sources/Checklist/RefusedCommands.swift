import UpstashProfile

/// A command Upstash (or the proxy, for it) refused while the app's tests ran, and why.
public struct RefusedCommand: Sendable, Codable, Hashable {
    /// The command's name, upper-cased (`BLPOP`, `WATCH`, `SELECT`).
    public var command: String
    /// Why Upstash does not serve it over REST.
    public var reason: String

    /// A refusal from its parts.
    public init(command: String, reason: String) {
        self.command = command
        self.reason = reason
    }
}

/// Finds refusals in what the app's tests printed, and in the proxy's end-of-run summary.
public enum RefusalText {
    /// What the flipped proxy answers (`Shadow/PooledPrimary.swift`): `ERR upshift: BLPOP is not served by Upstash over REST (…)`.
    /// Without `ERR `: clients such as redis-py drop the error code from the message.
    static let proxyMarker = "upshift: "
    static let proxyMiddle = " is not served by Upstash over REST"
    /// What the proxy answers to SELECT n.
    static let singleDatabase = "upshift: the primary has a single database 0"
    /// What Upstash and the strict gateway answer over REST: `ERR Command is not available: 'blpop'`.
    static let restMarker = "Command is not available: '"

    /// Commands the proxy answers itself after the flip, as Upstash keeps no connection state over
    /// REST (`Shadow/PooledConnectionState.swift`): counted by the proxy, refused to nobody.
    public static let answeredByProxy: Set<String> = ["AUTH", "HELLO", "CLIENT", "QUIT", "RESET", "UNWATCH", "MULTI", "EXEC", "DISCARD"]

    /// Every refusal named in `text` (a failure message, a traceback), in order, once each.
    public static func refusals(in text: String) -> [RefusedCommand] {
        var found: [RefusedCommand] = []
        func add(_ name: String) {
            let refusal = RefusedCommand(command: name, reason: reason(for: name))
            if !found.contains(refusal) { found.append(refusal) }
        }
        var rest = text[...]
        while let marker = rest.range(of: proxyMarker) {
            let after = rest[marker.upperBound...]
            let name = after.prefix { !$0.isWhitespace }
            if !name.isEmpty, after.dropFirst(name.count).hasPrefix(proxyMiddle) { add(name.uppercased()) }
            rest = after
        }
        if text.contains(singleDatabase) { add("SELECT") }
        rest = text[...]
        while let marker = rest.range(of: restMarker) {
            let after = rest[marker.upperBound...]
            let name = after.prefix { $0 != "'" && !$0.isNewline }
            if !name.isEmpty && name.count < after.count { add(name.uppercased()) }
            rest = after
        }
        return found
    }

    /// The proxy's counts of commands Upstash does not serve over REST, from its summary
    /// (`commands Upstash does not serve over REST (…): BLPOP 1, WATCH 2`); empty when it lists none.
    public static func proxyCounts(inSummary summary: String) -> [String: Int] {
        var counts: [String: Int] = [:]
        for line in summary.split(whereSeparator: \.isNewline) where line.hasPrefix("commands Upstash ") {
            guard let colon = line.range(of: "): ") else { continue }
            for item in line[colon.upperBound...].split(separator: ",") {
                let parts = item.split(separator: " ")
                if parts.count == 2, let n = Int(parts[1]) { counts[String(parts[0]), default: 0] += n }
            }
        }
        return counts
    }

    /// Why Upstash refuses `name` over REST, in UpstashProfile's words.
    public static func reason(for name: String) -> String {
        let argv = [Array(name.utf8)]
        // SELECT and XREAD are refused for some arguments only: those the proxy refused them for.
        let refusal =
            UpstashCompatibility.refusal(for: argv) ?? UpstashCompatibility.refusal(for: argv + [Array("BLOCK".utf8)])
            ?? UpstashCompatibility.refusal(for: argv + [Array("1".utf8)])
        return refusal?.description ?? "not served by Upstash over REST"
    }
}
