import Foundation
import NIOCore
import RESP
import RedisClient
import Testing

@testable import Shadow

@Suite("mirror backlog: a slow mirror paces clients, a stuck one holds nobody")
struct MirrorBacklogTests {
    static let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)

    @Test("holding starts at a tenth of the bound, stops at half of that, and drops start only at the bound")
    func marks() {
        var b = MirrorBacklog(limit: 100, stallAfter: .milliseconds(250), now: Self.t0)
        for _ in 0..<9 { #expect(b.reserve(now: Self.t0) == .taken(hold: false)) }
        #expect(b.reserve(now: Self.t0) == .taken(hold: true))
        #expect(b.release(4, answered: true, now: Self.t0) == false, "6 waiting: still above half the mark")
        #expect(b.release(1, answered: true, now: Self.t0) == true, "5 waiting: the held sessions resume")
        #expect(!b.holding)
        for _ in 0..<95 { _ = b.reserve(now: Self.t0) }
        #expect(b.depth == 100)
        #expect(b.reserve(now: Self.t0) == .full)
    }

    @Test("a mirror that owes answers and gives none for the stall time holds nobody, until it answers again")
    func stuck() {
        var b = MirrorBacklog(limit: 100, stallAfter: .milliseconds(250), now: Self.t0)
        for _ in 0..<10 { _ = b.reserve(now: Self.t0) }
        #expect(b.holding)
        #expect(b.checkStall(now: Self.t0 + .milliseconds(100)) == false, "answers may still come")
        #expect(b.checkStall(now: Self.t0 + .milliseconds(250)) == true)
        #expect(b.reserve(now: Self.t0 + .milliseconds(300)) == .taken(hold: false), "stuck: past the mark, nobody is held")
        #expect(b.release(1, answered: true, now: Self.t0 + .milliseconds(400)) == false)
        #expect(b.reserve(now: Self.t0 + .milliseconds(401)) == .taken(hold: true), "it answered again: it paces clients again")
    }

    @Test("an idle mirror is not stuck: the first command after a quiet hour may hold")
    func idleIsNotStuck() {
        var b = MirrorBacklog(limit: 10, stallAfter: .milliseconds(250), now: Self.t0)
        let later = Self.t0 + .hours(1)
        #expect(b.reserve(now: later) == .taken(hold: true))
    }

    /// The mirror redis-server runs a 50 ms busy script every ~60 ms, so it answers in bursts.
    /// (CLIENT PAUSE WRITE is no model of a slow mirror: a paused pipelined batch can wait for longer
    /// than the stall time, which is a stuck mirror, and is dropped by design.)
    static let busy = """
        local s = redis.call('TIME'); local t0 = s[1] * 1000000 + s[2]
        while true do local n = redis.call('TIME'); if n[1] * 1000000 + n[2] - t0 > 50000 then break end end
        """

    @Test("a mirror busy 50 ms of every 60 paces the writers (-P 16, 20 clients): nothing dropped, both sides equal")
    func slowMirrorPaces() async throws {
        let rig = try await ShadowRig(readSample: 0, queueLimit: 1000, drainSeconds: 10)
        defer { rig.stop() }
        let pauser = try rig.target.client()
        let pausing = Task {
            while !Task.isCancelled {
                _ = try? await pauser.send(RESPCommand("EVAL", Self.busy, "0"))
                try? await Task.sleep(nanoseconds: 10_000_000)
            }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for c in 0..<20 {
                group.addTask {
                    let client = try rig.client()
                    for b in 0..<50 {
                        let replies = try await client.send(batch: (0..<16).map { RESPCommand("SET", "w:\(c):\(b):\($0)", "v\($0)") })
                        #expect(replies.allSatisfy { $0 == .ok })
                    }
                    await client.close()
                }
            }
            try await group.waitForAll()
        }
        pausing.cancel()
        _ = await pausing.value
        await pauser.close()
        let summary = await rig.shutdown()
        #expect(summary.metrics.mismatches[.dropped] == nil, "dropped: \(summary.metrics.mismatches)")
        let primary = try rig.primary.client()
        let target = try rig.target.client()
        #expect(try await primary.send(RESPCommand("DBSIZE")) == .integer(16_000))
        #expect(try await target.send(RESPCommand("DBSIZE")) == .integer(16_000))
        await primary.close()
        await target.close()
    }

    @Test("a stopped mirror holds the writers once, for the stall time at most; then its writes are dropped and listed")
    func stoppedMirrorHoldsNobodyLong() async throws {
        let rig = try await ShadowRig(readSample: 0, queueLimit: 1000, mirrorTimeoutMs: 1000, drainSeconds: 1)
        defer { rig.stop() }
        rig.target.pause()
        let slowest = try await withThrowingTaskGroup(of: UInt64.self) { group in
            for c in 0..<10 {
                group.addTask {
                    let client = try rig.client()
                    var slowest: UInt64 = 0
                    for b in 0..<50 {
                        let start = DispatchTime.now().uptimeNanoseconds
                        let replies = try await client.send(batch: (0..<16).map { RESPCommand("SET", "s:\(c):\(b):\($0)", "v") })
                        slowest = max(slowest, DispatchTime.now().uptimeNanoseconds - start)
                        #expect(replies.allSatisfy { $0 == .ok })
                    }
                    await client.close()
                    return slowest
                }
            }
            return try await group.reduce(0) { max($0, $1) }
        }
        let summary = await rig.shutdown()
        rig.target.resume()
        // 250 ms of stall time, and room for a loaded machine; waiting on the stopped mirror itself would take its 1 s timeout or more.
        #expect(slowest < 900_000_000, "slowest batch \(slowest / 1_000_000) ms")
        #expect((summary.metrics.mismatches[.dropped] ?? 0) > 0)
        #expect(summary.divergentKeys > 0, "writes the mirror never saw are listed for reconcile")
    }
}
