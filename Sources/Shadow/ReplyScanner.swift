/// Finds where each of a server's replies ends, RESP2 and RESP3 alike, at any nesting depth,
/// without copying or building values: the proxy passes the primary's bytes on as they arrive and
/// only needs to know which reply each byte belongs to.
///
/// Streaming: it keeps its place between chunks (an open aggregate, a bulk body half read, a header
/// line cut in two), so a reply of any size or depth costs only a counter per open level.
struct ReplyScanner {
    private enum Kind: UInt8 {
        case array, push, attribute
    }
    private struct Level {
        var kind: Kind
        var remaining: Int
    }

    private var levels: [Level] = []
    /// A header line cut by the end of a chunk: its first part.
    private var partialLine: [UInt8] = []
    /// Bytes of a bulk body (with its CRLF) still to pass over.
    private var skip = 0
    /// The reply being scanned is a RESP3 push (out of band).
    private var pushing = false

    /// True between replies.
    var atBoundary: Bool { levels.isEmpty && partialLine.isEmpty && skip == 0 }

    /// Scans from `start`; returns the index just past the next complete reply (and whether it was a
    /// push), or nil when the bytes run out first (the place is kept for the next chunk).
    mutating func next(_ bytes: UnsafeRawBufferPointer, from start: Int) throws(RESPReplyError) -> (end: Int, push: Bool)? {
        var i = start
        let n = bytes.count
        while true {
            if skip > 0 {
                let take = min(skip, n - i)
                skip -= take
                i += take
                if skip > 0 { return nil }
                if complete() { return finish(i) }
                continue
            }
            guard i < n else { return nil }
            // One header line: a type byte, text, CRLF.
            let done: Bool
            if partialLine.isEmpty {
                guard let nl = Self.newline(bytes, from: i) else {
                    partialLine = Array(bytes[i..<n])
                    if partialLine.count > 64 * 1024 { throw RESPReplyError("line longer than 64 KB") }
                    return nil
                }
                done = try header(UnsafeRawBufferPointer(rebasing: bytes[i..<(nl - 1)]))
                i = nl + 1
            } else {
                guard let nl = Self.newline(bytes, from: i, after: partialLine.last) else {
                    partialLine += bytes[i..<n]
                    if partialLine.count > 64 * 1024 { throw RESPReplyError("line longer than 64 KB") }
                    return nil
                }
                var joined = partialLine + bytes[i...nl]
                partialLine = []
                i = nl + 1
                joined.removeLast(2)
                var result: Result<Bool, RESPReplyError> = .success(false)
                joined.withUnsafeBytes { raw in
                    do throws(RESPReplyError) { result = .success(try header(raw)) } catch { result = .failure(error) }
                }
                done = try result.get()
            }
            if done, complete() { return finish(i) }
        }
    }

    private mutating func finish(_ end: Int) -> (end: Int, push: Bool) {
        let push = pushing
        pushing = false
        return (end, push)
    }

    /// Reads one header; true when it completed a value (a scalar, an empty or null aggregate).
    private mutating func header(_ line: UnsafeRawBufferPointer) throws(RESPReplyError) -> Bool {
        guard let type = line.first else { throw RESPReplyError("empty line") }
        switch type {
        case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: ":"), UInt8(ascii: ","), UInt8(ascii: "("), UInt8(ascii: "#"),
            UInt8(ascii: "_"):
            return true
        case UInt8(ascii: "$"), UInt8(ascii: "="), UInt8(ascii: "!"):
            let count = try Self.count(line)
            if count < 0 { return true }
            skip = count + 2
            return false
        case UInt8(ascii: "*"), UInt8(ascii: "%"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "|"):
            var count = try Self.count(line)
            if type == UInt8(ascii: ">") && levels.isEmpty { pushing = true }
            if count <= 0 { return type != UInt8(ascii: "|") }
            if type == UInt8(ascii: "%") || type == UInt8(ascii: "|") { count *= 2 }
            let kind: Kind = type == UInt8(ascii: "|") ? .attribute : type == UInt8(ascii: ">") ? .push : .array
            levels.append(Level(kind: kind, remaining: count))
            return false
        default:
            throw RESPReplyError("unexpected type byte \(type)")
        }
    }

    /// A value just completed: folds it into its parents; true when a whole reply is done.
    private mutating func complete() -> Bool {
        while let last = levels.indices.last {
            levels[last].remaining -= 1
            if levels[last].remaining > 0 { return false }
            // An attribute annotates the value after it: it is not a value of its own.
            if levels.removeLast().kind == .attribute { return false }
        }
        return true
    }

    private static func count(_ line: UnsafeRawBufferPointer) throws(RESPReplyError) -> Int {
        guard line.count > 1, let n = RequestParser.integer(line, 1..<line.count), n >= -1, n < Int64(Int32.max) else {
            throw RESPReplyError("bad length")
        }
        return Int(n)
    }

    /// The index of the `\n` of the next CRLF from `start`; `after` is the byte before `start` (a line cut in two).
    private static func newline(_ bytes: UnsafeRawBufferPointer, from start: Int, after previous: UInt8? = nil) -> Int? {
        var i = start
        let n = bytes.count
        while i < n {
            if bytes[i] == 10 {
                let before = i > start ? bytes[i - 1] : previous
                if before == 13 { return i }
            }
            i += 1
        }
        return nil
    }
}
