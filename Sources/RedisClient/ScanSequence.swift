import RESP

/// What to ask SCAN for.
public struct ScanOptions: Sendable, Hashable {
    public var match: [UInt8]?
    public var count: Int
    public var type: String?
    /// Where to start: "0" for the beginning, or a cursor saved from an earlier page.
    public var cursor: [UInt8]

    public init(match: [UInt8]? = nil, count: Int = 1000, type: String? = nil, cursor: [UInt8] = Array("0".utf8)) {
        self.match = match
        self.count = count
        self.type = type
        self.cursor = cursor
    }
}

/// One SCAN reply: some keys, and the cursor to continue from ("0" when done).
public struct ScanPage: Sendable, Hashable {
    public var keys: [[UInt8]]
    public var nextCursor: [UInt8]
    public var isLast: Bool { nextCursor == Array("0".utf8) }
}

/// Iterates a keyspace with SCAN, page by page, from any backend that speaks it.
public struct ScanSequence: AsyncSequence, Sendable {
    public typealias Element = ScanPage
    let backend: any Backend
    let options: ScanOptions

    public init(backend: any Backend, options: ScanOptions) {
        self.backend = backend
        self.options = options
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let backend: any Backend
        let options: ScanOptions
        var cursor: [UInt8]?

        public mutating func next() async throws -> ScanPage? {
            guard let current = cursor else { return nil }
            var args: [any RESPArgumentConvertible] = [current]
            if let m = options.match { args += ["MATCH", m] }
            args += ["COUNT", options.count]
            if let t = options.type { args += ["TYPE", t] }
            let reply = try await backend.send(RESPCommand("SCAN", arguments: args))
            guard let parts = reply.array, parts.count == 2, let next = parts[0].bytes, let keys = parts[1].array else {
                throw RedisClientError(.protocolError, endpoint: backend.displayName, detail: "unexpected SCAN reply: \(reply)")
            }
            let page = ScanPage(keys: keys.compactMap(\.bytes), nextCursor: next)
            cursor = page.isLast ? nil : next
            return page
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(backend: backend, options: options, cursor: options.cursor)
    }
}
