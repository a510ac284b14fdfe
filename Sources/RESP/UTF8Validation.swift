/// The length of the valid UTF-8 sequence starting at `i`, or 0 when it is not one.
/// ASCII (below 0x80) is not a sequence here: callers handle it first, as the fast path.
@inline(__always)
public func utf8SequenceLength(_ s: [UInt8], at i: Int) -> Int {
    s.withUnsafeBufferPointer { utf8SequenceLength($0, at: i) }
}

/// The same over raw bytes: the hot loops of escaping and JSON writing run over a buffer pointer,
/// which in a debug build (the tests') is several times faster than indexing the array.
@inline(__always)
public func utf8SequenceLength(_ s: UnsafeBufferPointer<UInt8>, at i: Int) -> Int {
    // Plain comparisons, not range patterns: a debug build calls a generic `contains` for those.
    let c = s[i]
    var n = 0
    var min: UInt32 = 0
    var v: UInt32 = 0
    if c >= 0xC2 && c <= 0xDF {
        n = 2
        min = 0x80
        v = UInt32(c & 0x1F)
    } else if c >= 0xE0 && c <= 0xEF {
        n = 3
        min = 0x800
        v = UInt32(c & 0x0F)
    } else if c >= 0xF0 && c <= 0xF4 {
        n = 4
        min = 0x10000
        v = UInt32(c & 0x07)
    } else {
        return 0
    }
    guard i + n <= s.count else { return 0 }
    var k = 1
    while k < n {
        let b = s[i + k]
        guard b & 0xC0 == 0x80 else { return 0 }
        v = v << 6 | UInt32(b & 0x3F)
        k += 1
    }
    if v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF) { return 0 }
    return n
}

/// True when the bytes are valid UTF-8, so they can travel as a JSON string unchanged.
public func isValidUTF8(_ s: [UInt8]) -> Bool {
    s.withUnsafeBufferPointer { p in
        var i = 0
        let count = p.count
        while i < count {
            if p[i] < 0x80 {
                i += 1
                continue
            }
            let n = utf8SequenceLength(p, at: i)
            if n == 0 { return false }
            i += n
        }
        return true
    }
}
