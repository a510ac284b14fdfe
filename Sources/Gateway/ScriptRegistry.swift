import NIOConcurrencyHelpers

/// Upstash-only Lua: scripts whose shebang carries `allow-key-locking`, which stock Redis 7
/// rejects. The gateway strips the flag before forwarding and remembers which digest the
/// client computed (over the text it sent) so EVALSHA and SCRIPT EXISTS keep working.
final class ScriptRegistry: Sendable {
    struct Entry: Sendable {
        let stripped: [UInt8]
        let strippedDigest: [UInt8]
    }

    private static let upstashFlag: [UInt8] = Array("allow-key-locking".utf8)
    private let byClientDigest = NIOLockedValueBox<[[UInt8]: Entry]>([:])
    private let digestOfText = NIOLockedValueBox<[[UInt8]: [UInt8]]>([:])
    private let capacity = 10_000

    /// The script with Upstash-only flags removed, or nil when it has none.
    static func strip(_ script: [UInt8]) -> [UInt8]? {
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
        return newLine + Array(script[lineEnd...])
    }

    /// Remembers that `clientDigest` (over the original text) stands for this stripped script.
    func register(original: [UInt8], clientDigest: [UInt8], entry: Entry) {
        byClientDigest.withLockedValue {
            if $0.count >= capacity { $0.removeAll(keepingCapacity: true) }
            $0[clientDigest] = entry
        }
        digestOfText.withLockedValue {
            if $0.count >= capacity { $0.removeAll(keepingCapacity: true) }
            $0[original] = clientDigest
        }
    }

    /// The stripped script for a digest the client computed, if the gateway has seen it.
    func entry(forClientDigest digest: [UInt8]) -> Entry? {
        byClientDigest.withLockedValue { $0[lowercased(digest)] }
    }

    /// The client digest of an original text seen before.
    func clientDigest(of original: [UInt8]) -> [UInt8]? {
        digestOfText.withLockedValue { $0[original] }
    }

    private static func firstRange(of needle: [UInt8], in hay: [UInt8]) -> Range<Int>? {
        guard needle.count <= hay.count else { return nil }
        for i in 0...(hay.count - needle.count) where Array(hay[i..<i + needle.count]) == needle {
            return i..<i + needle.count
        }
        return nil
    }
}

func lowercased(_ bytes: [UInt8]) -> [UInt8] {
    bytes.map { ($0 >= 65 && $0 <= 90) ? $0 + 32 : $0 }
}
