/// Carries any bytes as valid UTF-8 text, which a Lua script on the server turns back into the bytes.
///
/// Upstash's REST API takes JSON, and a JSON string is UTF-8: it cannot hold a pickled or gzipped
/// value as it is. A command whose arguments are not UTF-8 could go alone in the path form (one
/// HTTP request per command); escaping lets it stay in a `/pipeline` with its neighbours instead,
/// inside a script that restores the bytes (`luaUnescape`) before it calls Redis.
///
/// The form: valid UTF-8 sequences pass unchanged, and so does ASCII except control characters
/// other than tab, LF and CR. Every other byte `b` travels as the two-byte UTF-8 of U+0100 + b
/// (lead byte 0xC4…0xC7). Original sequences with those lead bytes are escaped too, so in the
/// escaped form every such lead byte starts an escape: Lua undoes it with one `string.gsub` over a
/// 256-entry table, which runs in C. base64 was measured first and rejected: a pure-Lua base64
/// decoder ran at about 5 MB/s on redis-server 7.0, the gsub at 16–40 MB/s (ASCII-heavy pickles
/// fastest, since only their binary bytes are escapes).
public enum ScriptEscape {
    /// True when the bytes can travel as they are (valid UTF-8).
    @inline(__always)
    public static func isPlain(_ bytes: [UInt8]) -> Bool { isValidUTF8(bytes) }

    /// The escaped form of any bytes (always valid UTF-8).
    public static func escape(_ bytes: [UInt8]) -> [UInt8] {
        bytes.withUnsafeBufferPointer { s in
            var out: [UInt8] = []
            out.reserveCapacity(s.count + s.count / 2)
            var i = 0
            while i < s.count {
                let c = s[i]
                if c < 0x80 {
                    if c < 0x20 && c != 0x09 && c != 0x0A && c != 0x0D {
                        appendEscape(c, to: &out)
                    } else {
                        out.append(c)
                    }
                    i += 1
                    continue
                }
                if c < 0xC4 || c > 0xC7 {
                    let n = utf8SequenceLength(s, at: i)
                    if n > 0 {
                        out.append(contentsOf: UnsafeBufferPointer(rebasing: s[i..<i + n]))
                        i += n
                        continue
                    }
                }
                appendEscape(c, to: &out)
                i += 1
            }
            return out
        }
    }

    /// The bytes an escaped form stands for; nil when it is not one (a stray lead byte).
    public static func unescape(_ e: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(e.count)
        var i = 0
        while i < e.count {
            let c = e[i]
            if c >= 0xC4 && c <= 0xC7 {
                guard i + 1 < e.count, e[i + 1] & 0xC0 == 0x80 else { return nil }
                out.append(UInt8((Int(c & 0x07) << 6 | Int(e[i + 1] & 0x3F)) - 0x100))
                i += 2
            } else {
                out.append(c)
                i += 1
            }
        }
        return out
    }

    /// How many bytes of `s`, from `start`, escape into at most `budget` bytes (at least one byte
    /// when any remain), so a value too big for one request can be cut into pieces that each fit.
    public static func prefixLength(of bytes: [UInt8], from start: Int, escapedBudget budget: Int) -> Int {
        bytes.withUnsafeBufferPointer { s in
            var i = start
            var used = 0
            while i < s.count {
                let c = s[i]
                var n = 1
                var cost = 2
                if c < 0x80 {
                    cost = (c < 0x20 && c != 0x09 && c != 0x0A && c != 0x0D) ? 2 : 1
                } else if c < 0xC4 || c > 0xC7 {
                    let len = utf8SequenceLength(s, at: i)
                    if len > 0 { (n, cost) = (len, len) }
                }
                if used + cost > budget && i > start { break }
                used += cost
                i += n
            }
            return i - start
        }
    }

    /// The length of `s` written as a JSON string (quotes included), the way the REST client writes
    /// it: for budgeting request sizes before encoding.
    public static func jsonLength(_ bytes: [UInt8]) -> Int {
        bytes.withUnsafeBufferPointer { s in
            var n = 2
            for c in s {
                if c >= 0x20 {
                    n += (c == 0x22 || c == 0x5C) ? 2 : 1
                } else {
                    n += (c == 0x09 || c == 0x0A || c == 0x0D) ? 2 : 6
                }
            }
            return n
        }
    }

    /// The length of `s` as a JSON string once escaped (`escape`), without building the escaped form.
    public static func escapedJSONLength(_ bytes: [UInt8]) -> Int {
        bytes.withUnsafeBufferPointer { s in
            var n = 2
            var i = 0
            while i < s.count {
                let c = s[i]
                if c < 0x80 {
                    n += (c < 0x20 || c == 0x22 || c == 0x5C) ? 2 : 1
                    i += 1
                    continue
                }
                if c < 0xC4 || c > 0xC7 {
                    let len = utf8SequenceLength(s, at: i)
                    if len > 0 {
                        n += len
                        i += len
                        continue
                    }
                }
                n += 2
                i += 1
            }
            return n
        }
    }

    @inline(__always)
    private static func appendEscape(_ b: UInt8, to out: inout [UInt8]) {
        let cp = 0x100 + Int(b)
        out.append(UInt8(0xC0 | (cp >> 6)))
        out.append(UInt8(0x80 | (cp & 0x3F)))
    }

    /// Lua (5.1, as in Redis) defining `local function unescape(s)`: the inverse of `escape`.
    /// Its table is built on first use, so scripts whose arguments are all plain pay nothing.
    public static let luaUnescape = """
        local unescapeTable
        local function unescape(s)
          if unescapeTable == nil then
            unescapeTable = {}
            for b = 0, 255 do
              local cp = 256 + b
              unescapeTable[string.char(192 + math.floor(cp / 64), 128 + cp % 64)] = string.char(b)
            end
          end
          return (string.gsub(s, '[\\196-\\199][\\128-\\191]', unescapeTable))
        end
        """
}
