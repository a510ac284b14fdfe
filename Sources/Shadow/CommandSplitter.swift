import NIOCore
import RESP

/// Splits a client's byte stream into commands: RESP arrays of bulk strings through hiredis
/// (`RESPParser`, client caps), and inline commands (`PING\r\n` from a health check, the bare
/// `\r\n` that `redis-cli --pipe` sends) the way Redis reads them.
///
/// hiredis cannot say how many bytes a command took, nor step over an inline line, so a copy of
/// the unconsumed bytes is kept; a command array of bulk strings has one encoding, so its size is known.
struct CommandSplitter {
    /// Why the stream cannot be read further; the client gets it as `-ERR Protocol error: …`.
    struct Failure: Error {
        let reason: String
    }

    private var parser = RESPParser(limits: .client)
    private var pending = ByteBufferAllocator().buffer(capacity: 0)
    /// Bytes of `pending` the current parser has already been given.
    private var fed = 0
    private static let maxInline = 64 * 1024

    /// Hands bytes to the splitter.
    mutating func feed(_ bytes: ByteBuffer) {
        var b = bytes
        pending.writeBuffer(&b)
    }

    /// The next command's argv (never empty), nil when more bytes are needed.
    mutating func next() throws(Failure) -> [[UInt8]]? {
        while true {
            if fed == 0, let first = pending.getInteger(at: pending.readerIndex, as: UInt8.self), first != UInt8(ascii: "*") {
                guard let argv = try inline() else { return nil }
                if argv.isEmpty { continue }
                return argv
            }
            if fed < pending.readableBytes {
                pending.withUnsafeReadableBytes { parser.feed(UnsafeRawBufferPointer(rebasing: $0[fed...])) }
                fed = pending.readableBytes
            }
            let value: RESPValue?
            do {
                value = try parser.next()
            } catch {
                throw Failure(reason: error.description)
            }
            guard let value else {
                if pending.readerIndex > 64 * 1024 { pending.discardReadBytes() }
                return nil
            }
            guard case .array(let elements) = value else { throw Failure(reason: "expected an array of bulk strings") }
            var argv: [[UInt8]] = []
            argv.reserveCapacity(elements?.count ?? 0)
            for e in elements ?? [] {
                guard case .bulkString(let b?) = e else { throw Failure(reason: "expected an array of bulk strings") }
                argv.append(b)
            }
            let size = RESPCommand(arguments: argv).encodedSize
            let consumed = min(size, pending.readableBytes)
            pending.moveReaderIndex(forwardBy: consumed)
            fed = max(0, fed - consumed)
            // At a boundary before an inline line: a fresh parser, given the bytes after that line later.
            if pending.readableBytes > 0, pending.getInteger(at: pending.readerIndex, as: UInt8.self) != UInt8(ascii: "*") {
                parser = RESPParser(limits: .client)
                fed = 0
            }
            if argv.isEmpty { continue }
            return argv
        }
    }

    /// One inline command: the line split on spaces; [] for an empty line, nil when the line is incomplete.
    private mutating func inline() throws(Failure) -> [[UInt8]]? {
        let view = pending.readableBytesView
        guard let newline = view.firstIndex(of: UInt8(ascii: "\n")) else {
            if view.count > Self.maxInline { throw Failure(reason: "too big inline request") }
            return nil
        }
        var line = Array(view[view.startIndex..<newline])
        pending.moveReaderIndex(to: newline + 1)
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        return line.split(whereSeparator: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }).map(Array.init)
    }
}
