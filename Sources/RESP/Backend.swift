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

    /// True when arguments reach the server byte for byte whatever they hold (RESP). False for a
    /// transport that only carries text (Upstash's JSON REST API): there a command whose arguments
    /// are not UTF-8 costs more (it leaves the pipeline), and callers that write bytes in bulk
    /// escape them for a script to restore (`ScriptEscape`).
    var carriesBinary: Bool { get }

    /// How many round trips `send(batch:)` makes for these commands (requests over REST).
    func roundTrips(for commands: [RESPCommand]) -> Int

    /// Requests sent so far, for a backend that splits batches into several (REST); nil for one
    /// whose `send(batch:)` is always one round trip.
    var requestsSent: Int? { get }
}

extension Backend {
    /// RESP carries any bytes.
    public var carriesBinary: Bool { true }

    /// A RESP pipeline is one round trip.
    public func roundTrips(for commands: [RESPCommand]) -> Int { commands.isEmpty ? 0 : 1 }

    /// A RESP backend sends each batch in one round trip: callers count their batches.
    public var requestsSent: Int? { nil }

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
