import Foundation
import NIOConcurrencyHelpers
import RESP

/// The keys on which the two sides may differ: what `upshift migrate --keys-from FILE` re-copies.
public final class DivergentKeys: Sendable {
    private struct State {
        var keys: Set<[UInt8]> = []
        var overflowed = false
        var version = 0
        var written = 0
    }
    private let state = NIOLockedValueBox(State())
    private let capacity: Int

    /// A set holding at most `capacity` keys (past it, a full migrate is the reconcile).
    public init(capacity: Int = 1_000_000) {
        self.capacity = capacity
    }

    /// Records keys as divergent.
    func insert(_ keys: [[UInt8]]) {
        guard !keys.isEmpty else { return }
        state.withLockedValue { s in
            for k in keys {
                if s.keys.count >= capacity {
                    s.overflowed = true
                    break
                }
                if s.keys.insert(k).inserted { s.version += 1 }
            }
        }
    }

    /// How many keys are recorded.
    public var count: Int { state.withLockedValue { $0.keys.count } }

    /// True when more keys diverged than the set holds.
    public var overflowed: Bool { state.withLockedValue { $0.overflowed } }

    /// The recorded keys, sorted by bytes.
    public var keys: [[UInt8]] { state.withLockedValue { Array($0.keys) }.sorted { $0.lexicographicallyPrecedes($1) } }

    /// Writes the keys file (atomically: a temporary file renamed over it) when something changed since
    /// the last write, or when `force` is set. Blocking file I/O: call it off the event loops.
    public func write(to path: String, force: Bool = false) throws {
        let (snapshot, version) = state.withLockedValue { s -> ([[UInt8]]?, Int) in
            if !force && s.version == s.written { return (nil, s.version) }
            return (Array(s.keys), s.version)
        }
        guard let snapshot else { return }
        var text = snapshot.map { displayKey($0) }.sorted().joined(separator: "\n")
        if !text.isEmpty { text += "\n" }
        let temp = path + ".tmp"
        guard FileManager.default.createFile(atPath: temp, contents: Data(text.utf8)) else {
            throw ShadowError("cannot write keys file \(temp)")
        }
        guard rename(temp, path) == 0 else { throw ShadowError("cannot rename \(temp) to \(path)") }
        state.withLockedValue { $0.written = max($0.written, version) }
    }
}
