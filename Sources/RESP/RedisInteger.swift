/// Integers as redis-server reads them (its `string2ll`): optional `-`, no leading zeros, no `+`,
/// no blanks, at most 20 characters. RESP lengths and counts are read with it, so a reader
/// accepts exactly the numbers Redis accepts.
public enum RedisInteger {
    /// The integer in `bytes[range]`, nil when it is not one by Redis's rules.
    public static func parse(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Int64? {
        let n = range.count
        guard n > 0, n < 21 else { return nil }
        var i = range.lowerBound
        if n == 1 && bytes[i] == UInt8(ascii: "0") { return 0 }
        var negative = false
        if bytes[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
            guard i < range.upperBound else { return nil }
        }
        guard bytes[i] >= UInt8(ascii: "1") && bytes[i] <= UInt8(ascii: "9") else { return nil }
        var v: UInt64 = 0
        while i < range.upperBound {
            let d = bytes[i]
            guard d >= UInt8(ascii: "0") && d <= UInt8(ascii: "9") else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt64(d - UInt8(ascii: "0")))
            guard !o1, !o2 else { return nil }
            v = s
            i += 1
        }
        if negative {
            guard v <= UInt64(Int64.max) + 1 else { return nil }
            return v == UInt64(Int64.max) + 1 ? Int64.min : -Int64(v)
        }
        guard v <= UInt64(Int64.max) else { return nil }
        return Int64(v)
    }

    /// The integer `bytes` spell, nil when they do not by Redis's rules.
    public static func parse(_ bytes: [UInt8]) -> Int64? {
        bytes.withUnsafeBytes { parse($0, 0..<$0.count) }
    }
}
