import RESP

/// Replies as mismatch records show them: short, and without values unless asked.
struct ReplyRendering: Sendable {
    /// Keep string contents instead of their length and a fingerprint.
    var showValues: Bool
    /// Longest rendering kept, in characters.
    var limit = 300

    /// One reply as a short line of text.
    func render(_ value: RESPValue) -> String {
        var out = ""
        append(value, into: &out)
        if out.count > limit { out = String(out.prefix(limit)) + "…" }
        return out
    }

    private func append(_ value: RESPValue, into out: inout String) {
        guard out.count <= limit else { return }
        switch value {
        case .simpleString(let b):
            out += showValues || b.count <= 16 ? "+" + String(decoding: b.prefix(limit), as: UTF8.self) : "+" + redacted(b)
        case .error(let b): out += "-" + error(b)
        case .integer(let i): out += ":\(i)"
        case .bulkString(nil), .array(nil): out += "(nil)"
        case .bulkString(let b?):
            out += showValues ? "\"" + String(decoding: b.prefix(limit), as: UTF8.self) + "\"" : redacted(b)
        case .array(let elements?):
            out += "["
            for (i, e) in elements.enumerated() {
                if i > 0 { out += ", " }
                if i >= 8 {
                    out += "… \(elements.count - 8) more"
                    break
                }
                append(e, into: &out)
            }
            out += "]"
        }
    }

    /// An error's text up to the first quote: Redis quotes the client's own bytes (`unknown command
    /// 'x', with args beginning with: 'secret'`), which stay out of records unless values are shown.
    private func error(_ b: [UInt8]) -> String {
        let cut = showValues ? nil : b.firstIndex { $0 == UInt8(ascii: "'") || $0 == UInt8(ascii: "\"") }
        let kept = b[..<(cut ?? b.endIndex)].prefix(limit)
        let text = String(decoding: kept.map { $0 < 0x20 || $0 == 0x7F ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
        return cut.map { text + "<\(b.count - $0) bytes redacted>" } ?? text
    }

    /// The length and a per-process fingerprint: two redacted values can be told apart, not read.
    private func redacted(_ b: [UInt8]) -> String {
        var h = Hasher()
        h.combine(b)
        let fp = String(UInt32(truncatingIfNeeded: h.finalize()), radix: 16)
        return "<\(b.count) bytes #\(fp)>"
    }
}
