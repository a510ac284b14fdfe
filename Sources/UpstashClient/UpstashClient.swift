import JSON
import Logging
import NIOConcurrencyHelpers
import RESP
import UpstashProfile

/// An Upstash Redis database over its REST API, as a `Backend`.
///
/// Requests go through libcurl on a thread of the client's own, with connections kept alive and
/// many requests in flight at once. Replies are decoded exactly back to bytes
/// (`Upstash-Encoding: base64`). The client stays within the plan: a batch whose body would be too
/// large is split into several requests, and commands are paced to the plan's commands/s (for a
/// remote host; requests to this machine are not paced unless asked). Transport failures and
/// HTTP 5xx are retried with backoff; command errors never are.
///
/// Retrying after a timeout may run a command twice if the first attempt did reach the server:
/// set `options.retry` to `.never` where that matters for non-idempotent commands.
///
/// Call `close()` when done; it ends the client's curl thread.
public final class UpstashClient: Backend {
    /// Where the database is.
    public let endpoint: UpstashEndpoint
    /// The plan whose limits the client keeps to.
    public let plan: UpstashPlan
    /// Pacing, retries and timeouts.
    public let options: UpstashClientOptions
    /// The commands/s budget in force, nil when unlimited.
    public let commandsPerSecond: Int?
    /// The largest request body sent, in bytes.
    public let maxRequestBytes: Int

    let authorization: String
    let engine: CurlEngine
    /// The engine of subscription streams, started by the first: each holds a connection while it
    /// lasts, so they stay off `engine`, whose connections are capped and shared by commands.
    private let streams = NIOLockedValueBox<CurlEngine?>(nil)
    let pacer: CommandPacer?
    let syncToken = NIOLockedValueBox<String?>(nil)
    let requestCounter = NIOLockedValueBox(0)
    let logger: Logger

    /// A client for a REST URL (`https://…upstash.io`) and its token.
    public convenience init(
        url: String, token: String, plan: UpstashPlan = .payAsYouGo, options: UpstashClientOptions = .init(),
        logger: Logger = Logger(label: "upshift.upstash")
    ) throws(UpstashError) {
        try self.init(endpoint: UpstashEndpoint(url), token: token, plan: plan, options: options, logger: logger)
    }

    /// A client for an endpoint and its token; nothing connects until the first command.
    public init(
        endpoint: UpstashEndpoint, token: String, plan: UpstashPlan = .payAsYouGo, options: UpstashClientOptions = .init(),
        logger: Logger = Logger(label: "upshift.upstash")
    ) throws(UpstashError) {
        guard !token.isEmpty else {
            throw UpstashError(.auth, host: endpoint.hostAndPort, detail: "no token given")
        }
        // A header value cannot hold control characters; refusing them also stops header injection.
        guard token.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
            throw UpstashError(.auth, host: endpoint.hostAndPort, detail: "the token contains control characters")
        }
        self.endpoint = endpoint
        self.plan = plan
        self.options = options
        self.authorization = "Authorization: Bearer \(token)"
        self.logger = logger
        self.maxRequestBytes = options.maxRequestBytes ?? plan.maxRequestBytes
        switch options.commandsPerSecond {
        case .unlimited: commandsPerSecond = nil
        case .perSecond(let n): commandsPerSecond = max(1, n)
        case .planDefault: commandsPerSecond = endpoint.isLocal ? nil : plan.commandsPerSecond
        }
        self.pacer = commandsPerSecond.map { CommandPacer(perSecond: $0) }
        self.engine = CurlEngine(maxConnections: options.maxConnections)
    }

    deinit {
        engine.shutdown()
        streams.withLockedValue { $0?.shutdown() }
    }

    var streamEngine: CurlEngine {
        streams.withLockedValue { e in
            if let e { return e }
            let made = CurlEngine(maxConnections: Self.maxStreams)
            e = made
            return made
        }
    }

    /// Subscription streams open at once at most (connections of the stream engine).
    static let maxStreams = 1024

    /// The REST URL; the token is never part of it.
    public var displayName: String { endpoint.description }

    /// Sends one command: `POST /` with a JSON body (binary arguments escaped inside an `EVAL`, or,
    /// for a command Redis refuses from scripts, the path form). A command error comes back as an `.error` value.
    public func send(_ command: RESPCommand) async throws(UpstashError) -> RESPValue {
        try await send(batch: [command])[0]
    }

    /// Sends commands in order, as few `/pipeline` requests as the plan's request size allows;
    /// one reply per command, in order. Not atomic: see `transaction(_:)`.
    ///
    /// A command with a non-UTF-8 argument stays in the pipeline, escaped inside an `EVAL` that
    /// restores its bytes (`EscapedCommand`); one Redis refuses from scripts goes alone in the path
    /// form between the requests around it (still in order). When the server refuses a whole request
    /// with a 4xx that is neither auth nor a limit, each command of that request gets its error text as reply.
    public func send(batch commands: [RESPCommand]) async throws(UpstashError) -> [RESPValue] {
        var replies: [RESPValue] = []
        replies.reserveCapacity(commands.count)
        for request in try plan(commands) {
            let response = try await exchange(request, resp2: false)
            replies.append(contentsOf: try decodeJSON(response, request: request))
        }
        return replies
    }

    /// Runs commands as one MULTI/EXEC transaction (`/multi-exec`).
    ///
    /// Returns `.array` of the replies, one per command, when it ran (a command that failed at run
    /// time has its `.error` in the array, as with EXEC). When the server refused the transaction as
    /// a whole (a syntax error, an unsupported command) it returns that one `.error`, like Redis's
    /// `EXECABORT`. A transaction cannot be split, so one larger than the plan's request size throws;
    /// a command with non-UTF-8 arguments travels escaped (`EscapedCommand`), and one that Redis
    /// refuses from scripts, which only the path form could carry, throws too.
    public func transaction(_ commands: [RESPCommand]) async throws(UpstashError) -> RESPValue {
        guard !commands.isEmpty else { return .array([]) }
        var encoded: [[UInt8]] = []
        encoded.reserveCapacity(commands.count)
        for (i, c) in commands.enumerated() {
            guard let json = RequestEncoding.json(c) ?? EscapedCommand.wrap(c).flatMap(RequestEncoding.json) else {
                throw failure(
                    .unencodable,
                    "command \(i + 1) (\(c.name)) of the transaction has an argument that is not UTF-8 and cannot run from a script; "
                        + "/multi-exec takes JSON only, so it can only be sent outside a transaction")
            }
            encoded.append(json)
        }
        let body = RequestEncoding.batch(encoded)
        guard body.count <= maxRequestBytes else {
            throw failure(.limit, "a transaction of \(body.count) bytes is over the plan's max request size of \(maxRequestBytes) bytes")
        }
        let billed = commands.reduce(0) { $0 + RequestPlanner.billed($1) }
        let request = PlannedRequest(
            route: "/multi-exec", body: body, isJSON: true, isPipeline: true, commands: 0..<commands.count, billed: billed)
        let response = try await exchange(request, resp2: false)
        if !response.isSuccess {
            guard let text = ResultDecoding.errorText(response.body) else { throw malformed(response, "no error text") }
            return .error(text)
        }
        return .array(try decodeJSON(response, request: request))
    }

    /// The raw RESP2 bytes of the replies (`Upstash-Response-Format: resp2`), one reply per command
    /// in order, for callers that need the exact reply types (status vs bulk string).
    public func rawRESP2(batch commands: [RESPCommand]) async throws(UpstashError) -> [UInt8] {
        var bytes: [UInt8] = []
        for request in try plan(commands) {
            let response = try await exchange(request, resp2: true)
            if response.isSuccess {
                bytes.append(contentsOf: response.body)
                continue
            }
            guard let text = ResultDecoding.errorText(response.body) else { throw malformed(response, "no error text") }
            let line = text.map { $0 == 13 || $0 == 10 ? 32 : $0 }
            for _ in request.commands { RESPSerializer.write(.error(line), into: &bytes) }
        }
        return bytes
    }

    /// The replies as RESP values parsed from the RESP2 response format: exact types, unlike JSON.
    public func sendRESP2(batch commands: [RESPCommand]) async throws(UpstashError) -> [RESPValue] {
        let bytes = try await rawRESP2(batch: commands)
        let parser = RESPParser()
        parser.feed(bytes)
        let values: [RESPValue]
        do {
            values = try parser.drain()
        } catch {
            throw failure(.protocolError, "malformed RESP2 reply: \(error)")
        }
        guard values.count == commands.count else {
            throw failure(.protocolError, "expected \(commands.count) RESP2 replies, got \(values.count)")
        }
        return values
    }

    /// One command's reply in its exact RESP2 type.
    public func sendRESP2(_ command: RESPCommand) async throws(UpstashError) -> RESPValue {
        try await sendRESP2(batch: [command])[0]
    }

    /// Ends the curl thread; requests in flight fail with `.cancelled`.
    public func close() async {
        engine.shutdown()
        streams.withLockedValue { $0?.shutdown() }
    }

    /// REST carries text only: binary arguments are escaped (`EscapedCommand`) or take the path form.
    public var carriesBinary: Bool { false }

    /// HTTP requests sent so far (retries included).
    public var requestsSent: Int? { requestCounter.withLockedValue { $0 } }

    /// The HTTP requests `send(batch:)` makes for these commands (1 per command it cannot plan).
    public func roundTrips(for commands: [RESPCommand]) -> Int {
        (try? plan(commands).count) ?? commands.count
    }

    /// The HTTP requests a client for `plan` (unpaced, default options) would make: for dry runs,
    /// which have no client.
    public static func roundTrips(for commands: [RESPCommand], plan: UpstashPlan) -> Int {
        let planner = RequestPlanner(maxBodyBytes: plan.maxRequestBytes, maxBilled: .max, maxPathBytes: UpstashClientOptions().maxPathBytes)
        return (try? planner.plan(commands).count) ?? commands.count
    }

    // MARK: - Internals

    func plan(_ commands: [RESPCommand]) throws(UpstashError) -> [PlannedRequest] {
        let planner = RequestPlanner(
            maxBodyBytes: maxRequestBytes, maxBilled: pacer?.chunk ?? Int.max, maxPathBytes: options.maxPathBytes)
        let refusal: RequestPlanner.Refusal
        do {
            return try planner.plan(commands)
        } catch {
            refusal = error
        }
        switch refusal {
        case .tooLarge(let index, let bytes):
            throw failure(
                .limit,
                "command \(index + 1) (\(commands[index].name)) needs a request of \(bytes) bytes, over the plan's max request size of \(maxRequestBytes) bytes"
            )
        case .pathTooLong(let index, let bytes):
            throw failure(
                .unencodable,
                "command \(index + 1) (\(commands[index].name)) has binary (non-UTF-8) arguments that make a URL path of \(bytes) bytes, "
                    + "over the \(options.maxPathBytes)-byte limit; only the last argument can travel as a raw body")
        }
    }

    private func decodeJSON(_ response: HTTPResponse, request: PlannedRequest) throws(UpstashError) -> [RESPValue] {
        let count = request.commands.count
        let json: JSONValue
        do {
            json = try JSONParser.parse(response.body)
        } catch {
            throw malformed(response, error.description)
        }
        if !response.isSuccess {
            // A 4xx that is neither auth nor a limit: the command (or every command of the
            // request) was refused; Redis's text is the reply.
            guard case .string(let text)? = json["error"] else { throw malformed(response, "a \(response.status) without an error text") }
            return Array(repeating: .error(text), count: count)
        }
        do {
            if request.isPipeline { return try ResultDecoding.envelopes(json, count: count) }
            return [try ResultDecoding.envelope(json)]
        } catch {
            throw malformed(response, error.why)
        }
    }

    func failure(_ kind: UpstashError.Kind, _ detail: String, status: Int? = nil) -> UpstashError {
        UpstashError(kind, host: endpoint.hostAndPort, detail: detail, status: status)
    }

    func malformed(_ response: HTTPResponse, _ why: String) -> UpstashError {
        failure(.protocolError, "unreadable reply: \(why); body starts \(ResultDecoding.preview(response.body))", status: response.status)
    }
}
