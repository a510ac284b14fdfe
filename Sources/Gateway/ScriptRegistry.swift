import NIOConcurrencyHelpers

/// Scripts the gateway sends in another form than the client wrote them: without Upstash's
/// `allow-key-locking` shebang flag (stock Redis 7 rejects it) and, in strict mode, behind the
/// `ScriptPrelude`. Clients compute EVALSHA digests over the text they sent, so the registry maps
/// that digest to the digest of what Redis holds, for EVALSHA, SCRIPT LOAD and SCRIPT EXISTS.
final class ScriptRegistry: Sendable {
    /// One script as the client wrote it and as Redis runs it.
    struct Entry: Sendable {
        /// The text sent to Redis.
        let rewritten: [UInt8]
        /// Redis's digest of `rewritten`.
        let rewrittenDigest: [UInt8]
        /// The digest the client computed over its own text.
        let clientDigest: [UInt8]
    }

    private static let upstashFlag: [UInt8] = Array("allow-key-locking".utf8)
    private struct State {
        var byClientDigest: [[UInt8]: Entry] = [:]
        var byText: [[UInt8]: Entry] = [:]
    }
    private let state = NIOLockedValueBox(State())
    private let capacity = 10_000

    /// The script with Upstash-only flags removed and whether `allow-key-locking` was among them;
    /// nil when its shebang has none.
    static func strip(_ script: [UInt8]) -> (script: [UInt8], lockingKeys: Bool)? {
        guard script.starts(with: Array("#!lua".utf8)) else { return nil }
        let lineEnd = script.firstIndex(of: UInt8(ascii: "\n")) ?? script.endIndex
        let line = Array(script[..<lineEnd])
        guard let flagsAt = firstRange(of: Array("flags=".utf8), in: line) else { return nil }
        let flags = line[flagsAt.upperBound...].split(separator: UInt8(ascii: ","), omittingEmptySubsequences: true)
            .map { Array($0.drop { $0 == 0x20 }.reversed().drop { $0 == 0x20 || $0 == 0x0D }.reversed()) }
        guard flags.contains(upstashFlag) else { return nil }
        let kept = flags.filter { $0 != upstashFlag }
        // With no flag left the shebang goes (a blank line keeps error line numbers right).
        var newLine: [UInt8] = []
        if !kept.isEmpty {
            newLine = Array(line[..<flagsAt.upperBound]) + Array(kept.joined(separator: [UInt8(ascii: ",")]))
        }
        return (newLine + Array(script[lineEnd...]), true)
    }

    /// Remembers a script under its text and its client digest.
    func register(original: [UInt8], entry: Entry) {
        state.withLockedValue {
            if $0.byText.count >= capacity { $0 = State() }
            $0.byText[original] = entry
            $0.byClientDigest[entry.clientDigest] = entry
        }
    }

    /// The script for a digest the client computed, if the gateway has seen it.
    func entry(forClientDigest digest: [UInt8]) -> Entry? {
        state.withLockedValue { $0.byClientDigest[lowercased(digest)] }
    }

    /// The entry of a text seen before.
    func entry(forText original: [UInt8]) -> Entry? {
        state.withLockedValue { $0.byText[original] }
    }

    private static func firstRange(of needle: [UInt8], in hay: [UInt8]) -> Range<Int>? {
        guard needle.count <= hay.count else { return nil }
        for i in 0...(hay.count - needle.count) where hay[i..<i + needle.count].elementsEqual(needle) {
            return i..<i + needle.count
        }
        return nil
    }
}

func lowercased(_ bytes: [UInt8]) -> [UInt8] {
    bytes.map { ($0 >= 65 && $0 <= 90) ? $0 + 32 : $0 }
}
