/// What every job needs of a data store: send a command, send a batch.
///
/// Both the Redis client and the Upstash client implement it, so `verify`, `compare` and
/// `shadow` treat a Redis and an Upstash alike. Error replies come back as `.error` values;
/// only failures to reach the store are thrown.
public protocol Backend: Sendable {
    /// Where this backend points, with secrets removed: safe for logs and reports.
    var displayName: String { get }

    /// Sends one command and returns its reply.
    func send(_ command: RESPCommand) async throws -> RESPValue

    /// Sends commands in one round trip where possible; replies in the same order.
    func send(batch commands: [RESPCommand]) async throws -> [RESPValue]

    /// Runs commands as one atomic transaction: EXEC's reply (an array), or an error when refused as a whole.
    func transaction(_ commands: [RESPCommand]) async throws -> RESPValue

    /// Releases connections.
    func close() async
}

extension Backend {
    public func send(_ command: RESPCommand) async throws -> RESPValue {
        try await send(batch: [command])[0]
    }

    /// MULTI, the commands and EXEC in one batch: atomic on a server that speaks RESP.
    public func transaction(_ commands: [RESPCommand]) async throws -> RESPValue {
        let replies = try await send(batch: [RESPCommand("MULTI")] + commands + [RESPCommand("EXEC")])
        if let queued = replies.dropFirst().dropLast().first(where: \.isError) { return queued }
        return replies.last ?? .array(nil)
    }
}
