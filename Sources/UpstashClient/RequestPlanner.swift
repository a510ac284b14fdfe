import RESP
import UpstashProfile

/// One HTTP request a batch becomes.
struct PlannedRequest: Sendable {
    /// `/`, `/pipeline`, or a path-form route such as `/SET/k`.
    var route: String
    var body: [UInt8]
    /// True for a JSON body; false for a path-form request, whose body is a raw argument.
    var isJSON: Bool
    /// True for `/pipeline`: the reply is an array of envelopes.
    var isPipeline: Bool
    /// The positions in the batch of the commands it carries.
    var commands: Range<Int>
    /// What Upstash bills for it (free commands 0, scripts with the commands they run).
    var billed: Int
}

/// Splits a batch into requests that each fit the plan's request size (and the pacer's chunk),
/// keeping the batch's order.
///
/// Runs of JSON-encodable commands become `/pipeline` requests (a run of one becomes `POST /`).
/// A command with a non-UTF-8 argument travels escaped inside an `EVAL` (`EscapedCommand`), in
/// the same pipeline; only one that cannot run from a script goes alone in the path form, between
/// the pipelines before and after it. The caller sends the requests one after another, so the
/// commands still run in the batch's order.
struct RequestPlanner {
    /// The largest request body.
    var maxBodyBytes: Int
    /// The most billed commands in one request (the pacer's chunk).
    var maxBilled: Int
    /// The longest path-form route.
    var maxPathBytes: Int

    /// Why a command cannot be sent at all.
    enum Refusal: Error, Sendable {
        /// Its request alone would be larger than the plan allows.
        case tooLarge(index: Int, bytes: Int)
        /// Binary arguments too long for a URL path.
        case pathTooLong(index: Int, bytes: Int)
    }

    /// What Upstash bills for one command as sent.
    static func billed(_ command: RESPCommand) -> Int {
        UpstashBilling.billed(command.name, scriptCalls: command.scriptCalls)
    }

    func plan(_ commands: [RESPCommand]) throws(Refusal) -> [PlannedRequest] {
        var out: [PlannedRequest] = []
        var run: [[UInt8]] = []
        var runStart = 0
        var runBytes = 0
        var runBilled = 0

        func flush() {
            guard !run.isEmpty else { return }
            if run.count == 1 {
                out.append(
                    PlannedRequest(
                        route: "/", body: run[0], isJSON: true, isPipeline: false, commands: runStart..<runStart + 1, billed: runBilled))
            } else {
                out.append(
                    PlannedRequest(
                        route: "/pipeline", body: RequestEncoding.batch(run), isJSON: true, isPipeline: true,
                        commands: runStart..<runStart + run.count, billed: runBilled))
            }
            run = []
            runBytes = 0
            runBilled = 0
        }

        for (i, command) in commands.enumerated() {
            if let (json, billed) = RequestEncoding.json(command).map({ ($0, Self.billed(command)) })
                ?? EscapedCommand.wrap(command).flatMap({ w in RequestEncoding.json(w).map { ($0, Self.billed(w)) } })
            {
                // A command alone goes to `/` with exactly its own JSON as the body.
                guard json.count <= maxBodyBytes else { throw .tooLarge(index: i, bytes: json.count) }
                let grown = RequestEncoding.batchSize(runBytes + json.count, count: run.count + 1)
                if !run.isEmpty && (grown > maxBodyBytes || runBilled + billed > maxBilled) { flush() }
                if run.isEmpty { runStart = i }
                run.append(json)
                runBytes += json.count
                runBilled += billed
            } else {
                flush()
                let (route, body) = RequestEncoding.pathForm(command)
                guard body.count <= maxBodyBytes else { throw .tooLarge(index: i, bytes: body.count) }
                guard route.utf8.count <= maxPathBytes else { throw .pathTooLong(index: i, bytes: route.utf8.count) }
                out.append(
                    PlannedRequest(
                        route: route, body: body, isJSON: false, isPipeline: false, commands: i..<i + 1, billed: Self.billed(command)))
            }
        }
        flush()
        return out
    }
}
