import NIOConcurrencyHelpers
import RESP

/// The Lua scripts the proxy has seen (by SHA-1), and which of them the mirror side is known to hold,
/// so a mirrored EVALSHA can fall back to EVAL with the text the client sent earlier.
final class ScriptRegistry: Sendable {
    private struct State {
        var texts: [[UInt8]: [UInt8]] = [:]
        var onMirror: Set<[UInt8]> = []
    }
    private let state = NIOLockedValueBox(State())
    private static let maxScripts = 10_000

    /// Remembers a script's text; returns its digest.
    @discardableResult
    func remember(_ text: [UInt8]) -> [UInt8] {
        let sha = ScriptSHA.hex(text)
        state.withLockedValue { s in
            if s.texts.count < Self.maxScripts || s.texts[sha] != nil { s.texts[sha] = text }
        }
        return sha
    }

    /// The text of a script by digest (any case), nil when never seen.
    func text(for sha: [UInt8]) -> [UInt8]? {
        let lower = sha.map { ($0 >= 65 && $0 <= 90) ? $0 + 32 : $0 }
        return state.withLockedValue { $0.texts[lower] }
    }

    /// True when the mirror side is known to hold this script.
    func mirrorHas(_ sha: [UInt8]) -> Bool {
        let lower = sha.map { ($0 >= 65 && $0 <= 90) ? $0 + 32 : $0 }
        return state.withLockedValue { $0.onMirror.contains(lower) }
    }

    /// Notes that the mirror side holds this script now.
    func mirrorLoaded(_ sha: [UInt8]) {
        let lower = sha.map { ($0 >= 65 && $0 <= 90) ? $0 + 32 : $0 }
        state.withLockedValue { _ = $0.onMirror.insert(lower) }
    }

    /// The mirror's script cache was flushed.
    func mirrorFlushed() {
        state.withLockedValue { $0.onMirror.removeAll() }
    }
}

extension ScriptRegistry {
    /// The script's shebang (`#!lua flags=no-writes,allow-stale`) declares that it does not write.
    static func declaresNoWrites(_ text: [UInt8]) -> Bool {
        guard text.starts(with: Array("#!".utf8)) else { return false }
        let line = text.prefix { $0 != 10 }
        for word in line.split(separator: UInt8(ascii: " ")) where word.starts(with: Array("flags=".utf8)) {
            if word.dropFirst(6).split(separator: UInt8(ascii: ",")).contains(where: { $0.elementsEqual(Array("no-writes".utf8)) }) {
                return true
            }
        }
        return false
    }
}
