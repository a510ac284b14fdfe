import Foundation
import RESP

/// What a reply must be: an exact value, a kind, a range, an error prefix, a length, a set.
public indirect enum Expectation: Sendable {
    case exact(Value)
    case kind(String)
    case range(Int64, Int64)
    case error(String)
    case length(Int)
    case unordered([Value])

    /// An expected value as written in YAML.
    public enum Value: Sendable, Equatable {
        case null
        case integer(Int64)
        case text(String)
        case list([Value])
    }

    static func parse(_ raw: Any, at: String) throws -> Expectation {
        if let m = raw as? [String: Any] {
            if let k = m["kind"] as? String { return .kind(k) }
            if let e = m["error"] as? String { return .error(e) }
            if let n = m["len"] as? Int { return .length(n) }
            if let r = m["range"] as? [Any], r.count == 2, let lo = intValue(r[0]), let hi = intValue(r[1]) { return .range(lo, hi) }
            if let u = m["unordered"] as? [Any] { return .unordered(u.map(value)) }
            throw ChecklistError("\(at): unknown expectation \(m.keys.sorted()), expected kind/error/len/range/unordered")
        }
        return .exact(value(raw))
    }

    static func intValue(_ v: Any) -> Int64? {
        if let i = v as? Int { return Int64(i) }
        return Int64("\(v)")
    }

    static func value(_ v: Any) -> Value {
        if v is NSNull { return .null }
        if let i = v as? Int { return .integer(Int64(i)) }
        if let l = v as? [Any] { return .list(l.map(value)) }
        return .text(Checklist.scalarText(v))
    }

    /// nil when the reply meets the expectation, else why not.
    func mismatch(_ reply: RESPValue, prefix: String = "") -> String? {
        switch self.expanded(prefix) {
        case .exact(let want):
            return Self.matches(reply, want) ? nil : "expected \(Self.describe(want)), got \(reply)"
        case .kind(let k):
            let got: String
            switch reply {
            case .integer: got = "integer"
            case .bulkString(nil), .array(nil): got = "null"
            case .bulkString, .simpleString: got = "string"
            case .array: got = "array"
            case .error: got = "error"
            }
            return got == k ? nil : "expected a reply of kind \(k), got \(reply)"
        case .range(let lo, let hi):
            guard case .integer(let i) = reply, i >= lo, i <= hi else { return "expected an integer in [\(lo), \(hi)], got \(reply)" }
            return nil
        case .error(let prefix):
            guard case .error(let text) = reply, String(decoding: text, as: UTF8.self).hasPrefix(prefix) else {
                return "expected an error starting \(prefix), got \(reply)"
            }
            return nil
        case .length(let n):
            if let a = reply.array, a.count == n { return nil }
            if case .bulkString(let b?) = reply, b.count == n { return nil }
            return "expected length \(n), got \(reply.array.map { "\($0.count) elements" } ?? "\(reply)")"
        case .unordered(let items):
            guard let a = reply.array, a.count == items.count else { return "expected \(items.count) elements in any order, got \(reply)" }
            var remaining = a
            for want in items {
                guard let i = remaining.firstIndex(where: { Self.matches($0, want) }) else {
                    return "missing \(Self.describe(want)) in \(reply)"
                }
                remaining.remove(at: i)
            }
            return nil
        }
    }

    /// True when equal replies are expected from every backend (not a range, kind or length).
    var isExactMatch: Bool {
        switch self {
        case .exact, .unordered, .error: return true
        case .kind, .range, .length: return false
        }
    }

    /// `{p}` in expected text stands for the scenario's key prefix.
    func expanded(_ prefix: String) -> Expectation {
        func e(_ v: Value) -> Value {
            switch v {
            case .text(let t): return .text(t.replacingOccurrences(of: "{p}", with: prefix))
            case .list(let l): return .list(l.map(e))
            default: return v
            }
        }
        switch self {
        case .exact(let v): return .exact(e(v))
        case .unordered(let l): return .unordered(l.map(e))
        default: return self
        }
    }

    static func matches(_ reply: RESPValue, _ want: Value) -> Bool {
        switch (reply, want) {
        case (.bulkString(nil), .null), (.array(nil), .null): return true
        case (.integer(let i), .integer(let j)): return i == j
        case (.integer(let i), .text(let t)): return String(i) == t
        case (.simpleString(let b), .text(let t)), (.bulkString(let b?), .text(let t)): return b == Array(t.utf8)
        case (.bulkString(let b?), .integer(let j)): return b == Array(String(j).utf8)
        case (.array(let a?), .list(let l)): return a.count == l.count && zip(a, l).allSatisfy { matches($0, $1) }
        default: return false
        }
    }

    static func describe(_ v: Value) -> String {
        switch v {
        case .null: return "(nil)"
        case .integer(let i): return "(integer) \(i)"
        case .text(let t): return "\"\(t)\""
        case .list(let l): return "[" + l.map(describe).joined(separator: ", ") + "]"
        }
    }
}
