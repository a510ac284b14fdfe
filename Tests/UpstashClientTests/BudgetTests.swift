import RESP
import Testing

@testable import UpstashClient

/// The commands/s budget and the request-size budget, measured against a real HTTP server.
@Suite("plan budgets", .serialized)
struct BudgetTests {
    static let rate = 50

    enum Shape: String, CaseIterable, Sendable {
        case sequentialSingles, oneBatch, concurrentSingles, concurrentBatches
    }

    @Test("a commands/s budget is held within 10% over 3× the budget", arguments: Shape.allCases)
    func holdsRate(_ shape: Shape) async throws {
        try await TestHTTPServer.with(EchoReplies.respond) { server in
            let client = try UpstashClient(url: server.url, token: "t", options: .init(commandsPerSecond: .perSecond(Self.rate)))
            defer { Task { await client.close() } }
            let total = 3 * Self.rate
            let commands = (0..<total).map { RESPCommand("ECHO", "\($0)") }
            let per = total / 6
            let start = ContinuousClock.now
            switch shape {
            case .sequentialSingles:
                for c in commands { _ = try await client.send(c) }
            case .oneBatch:
                let replies = try await client.send(batch: commands)
                #expect(replies.count == total)
            case .concurrentSingles:
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for worker in 0..<6 {
                        group.addTask {
                            for c in commands[worker * per..<(worker + 1) * per] { _ = try await client.send(c) }
                        }
                    }
                    try await group.waitForAll()
                }
            case .concurrentBatches:
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for worker in 0..<6 {
                        group.addTask { _ = try await client.send(batch: Array(commands[worker * per..<(worker + 1) * per])) }
                    }
                    try await group.waitForAll()
                }
            }
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let measured = Double(total) / seconds
            let requests = server.requests
            #expect(requests.reduce(0) { $0 + EchoReplies.commands($1).count } == total)
            // Never over the budget: overall, and (for one caller) in any two-second window at the
            // server; two seconds, because delivery delays on a busy box can bunch a few arrivals.
            #expect(measured <= Double(Self.rate) * 1.1, "\(shape): \(measured) commands/s")
            if shape == .sequentialSingles || shape == .oneBatch {
                let busiest = Self.busiestWindow(requests, length: .seconds(2))
                #expect(Double(busiest) <= Double(2 * Self.rate) * 1.1, "\(shape): \(busiest) commands in two seconds")
            }
            // Not under it either, where the caller can keep up: with several callers in flight.
            // One caller waits a round trip per request, and on a loaded 2-core box (the rest of the
            // suite blocks cooperative threads) those waits alone can cost more than the 10%: its
            // rate is then latency-bound, not paced.
            if shape == .concurrentSingles || shape == .concurrentBatches {
                #expect(measured >= Double(Self.rate) * 0.9, "\(shape): \(measured) commands/s")
            }
        }
    }

    /// The most commands that arrived at the server within any window of `length`.
    static func busiestWindow(_ requests: [RecordedRequest], length: Duration) -> Int {
        let arrivals = requests.map { ($0.receivedAt, EchoReplies.commands($0).count) }.sorted { $0.0 < $1.0 }
        var busiest = 0
        for (i, first) in arrivals.enumerated() {
            let window = arrivals[i...].prefix { $0.0 < first.0 + length }
            busiest = max(busiest, window.reduce(0) { $0 + $1.1 })
        }
        return busiest
    }

    @Test("a batch over the request size is split into several /pipeline requests; replies come back in order")
    func splitsLargeBatch() async throws {
        try await TestHTTPServer.with(EchoReplies.respond) { server in
            let client = try UpstashClient(url: server.url, token: "t", options: .init(maxRequestBytes: 300))
            defer { Task { await client.close() } }
            let commands = (0..<200).map { RESPCommand("SET", "key:\($0)", "value-\($0)") }
            let replies = try await client.send(batch: commands)
            #expect(replies == (0..<200).map { .bulk("value-\($0)") })
            let requests = server.requests
            #expect(requests.count > 10)
            #expect(requests.allSatisfy { $0.body.count <= 300 })
            #expect(requests.allSatisfy { $0.uri == "/pipeline" || $0.uri == "/" })
            #expect(requests.flatMap(EchoReplies.commands) == commands.map(\.arguments))
        }
    }

    @Test("a single command over the request size is refused before anything is sent")
    func refusesOversized() async throws {
        try await TestHTTPServer.with(EchoReplies.respond) { server in
            let client = try UpstashClient(url: server.url, token: "t", options: .init(maxRequestBytes: 100))
            defer { Task { await client.close() } }
            let error = try #require(
                await upstashError { try await client.send(RESPCommand("SET", "k", String(repeating: "v", count: 200))) })
            #expect(error.kind == .limit)
            #expect(error.detail.contains("max request size"))
            #expect(server.requests.isEmpty)
        }
    }

    @Test("a transaction is never split: over the size it throws, within it goes whole to /multi-exec")
    func transactionSize() async throws {
        try await TestHTTPServer.with(EchoReplies.respond) { server in
            let client = try UpstashClient(url: server.url, token: "t", options: .init(maxRequestBytes: 300))
            defer { Task { await client.close() } }
            let small = (0..<5).map { RESPCommand("SET", "k\($0)", "v\($0)") }
            #expect(try await client.transaction(small) == .array((0..<5).map { .bulk("v\($0)") }))
            #expect(server.requests.map(\.uri) == ["/multi-exec"])
            let large = (0..<50).map { RESPCommand("SET", "k\($0)", "v\($0)") }
            await #expect(throws: UpstashError.self) { _ = try await client.transaction(large) }
            #expect(server.requests.count == 1)
        }
    }
}
