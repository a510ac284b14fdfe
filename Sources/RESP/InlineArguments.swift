/// The inline protocol's argument rules (`SET "q a" "x\x41y"` typed into telnet), as redis-server
/// applies them (its sds.c `sdssplitargs`): blanks separate arguments; "double quotes" take the
/// escapes `\xHH`, `\n`, `\r`, `\t`, `\b`, `\a` and `\<any>`; 'single quotes' take only `\'`; a
/// quote may open in the middle of an argument; a closing quote must be followed by a blank or the
/// end of the line; a NUL byte ends the line.
public enum InlineArguments {
    /// The arguments of one inline line (without its line ending); nil when the quotes are unbalanced.
    public static func split(_ line: UnsafeRawBufferPointer) -> [[UInt8]]? {
        var args: [[UInt8]] = []
        let n = line.count
        var i = 0
        // A NUL ends the line, as the C string it is in redis-server.
        @inline(__always) func at(_ j: Int) -> UInt8 { j < n ? line[j] : 0 }
        while true {
            while at(i) != 0 && isBlank(at(i)) { i += 1 }
            guard at(i) != 0 else { return args }
            var current: [UInt8] = []
            // The quote an argument is inside: `"` takes escapes, `'` only `\'`.
            var quote: UInt8?
            var done = false
            while !done {
                let c = at(i)
                if let q = quote {
                    let double = q == UInt8(ascii: "\"")
                    if double, c == UInt8(ascii: "\\"), at(i + 1) == UInt8(ascii: "x"), let h = hex(at(i + 2)), let l = hex(at(i + 3)) {
                        current.append(h * 16 + l)
                        i += 3
                    } else if c == UInt8(ascii: "\\"), at(i + 1) != 0, double || at(i + 1) == UInt8(ascii: "'") {
                        i += 1
                        current.append(double ? unescaped(at(i)) : at(i))
                    } else if c == q {
                        if at(i + 1) != 0 && !isBlank(at(i + 1)) { return nil }
                        done = true
                    } else if c == 0 {
                        return nil
                    } else {
                        current.append(c)
                    }
                } else {
                    switch c {
                    case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"), 0: done = true
                    case UInt8(ascii: "\""), UInt8(ascii: "'"): quote = c
                    default: current.append(c)
                    }
                }
                if at(i) != 0 { i += 1 }
            }
            args.append(current)
        }
    }

    /// C's `isspace` in the C locale.
    @inline(__always) static func isBlank(_ c: UInt8) -> Bool {
        c == 32 || (c >= 9 && c <= 13)
    }

    private static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    private static func unescaped(_ c: UInt8) -> UInt8 {
        switch c {
        case UInt8(ascii: "n"): return 10
        case UInt8(ascii: "r"): return 13
        case UInt8(ascii: "t"): return 9
        case UInt8(ascii: "b"): return 8
        case UInt8(ascii: "a"): return 7
        default: return c
        }
    }
}
