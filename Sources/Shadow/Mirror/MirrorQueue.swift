import NIOConcurrencyHelpers
import NIOCore
import RESP

/// One mirror lane: the mirrored commands of the connections assigned to it, each connection's in
/// the order the primary answered them.
///
/// One drain task at a time runs the lane's items, batch after batch, so the mirror side sees each
/// connection's commands in the same order; the event loop only appends and never waits. The bound is global
/// (`ShadowEngine.queueLimit`): past it, items are dropped and their keys recorded as divergent.
final class MirrorQueue: Sendable {
    private struct State {
        var items = CircularBuffer<MirrorItem>()
        var inFlight: [MirrorItem] = []
        /// Pops the mirror answered empty: run again after what arrives meanwhile (`MirrorItem.retryWhenEmpty`).
        var retries: [(item: MirrorItem, attempts: Int)] = []
        var running = false
        var abandoned = false
    }
    /// Tries of a pop that found nothing, and the pause before each: about 0.6 s in all.
    static let retryDelaysMs: [UInt64] = [1, 5, 20, 50, 100, 150, 250]
    private let state = NIOLockedValueBox(State())
    private let engine: ShadowEngine

    init(engine: ShadowEngine) {
        self.engine = engine
    }

    /// Queues an item; never blocks. Drops it (recording its keys) when the global bound is reached.
    /// True when the session should hold its client until the mirror side catches up.
    @discardableResult
    func enqueue(_ item: MirrorItem) -> Bool {
        guard case .taken(let hold) = engine.reserveQueueSlot() else {
            engine.settle(item, outcome: .dropped)
            return false
        }
        let (accepted, start) = state.withLockedValue { s -> (Bool, Bool) in
            if s.abandoned { return (false, false) }
            s.items.append(item)
            if s.running { return (true, false) }
            s.running = true
            return (true, true)
        }
        if !accepted {
            engine.releaseQueueSlots(1)
            engine.settle(item, outcome: .dropped)
            return false
        }
        if start { Task { await self.drain() } }
        return hold
    }

    private func drain() async {
        let batchLimit = engine.configuration.mirrorBatch
        while true {
            let (batch, attempts, pause) = state.withLockedValue { s -> ([MirrorItem], [Int], UInt64) in
                if (s.items.isEmpty && s.retries.isEmpty) || s.abandoned {
                    s.running = false
                    return ([], [], 0)
                }
                var fresh: [MirrorItem] = []
                while fresh.count < batchLimit, let i = s.items.popFirst() { fresh.append(i) }
                // Retried pops go after what other connections sent since (the push they wait for may
                // be among it) and before what their own connection sent since (which came after them).
                let waiting = Set(s.retries.map(\.item.connection))
                let others = fresh.filter { !waiting.contains($0.connection) }
                let later = fresh.filter { waiting.contains($0.connection) }
                let pause = fresh.isEmpty ? Self.retryDelaysMs[min(s.retries.map(\.attempts).min() ?? 0, Self.retryDelaysMs.count - 1)] : 0
                var out = others
                var attempts = [Int](repeating: 0, count: others.count)
                for r in s.retries {
                    out.append(r.item)
                    attempts.append(r.attempts)
                }
                out += later
                attempts += [Int](repeating: 0, count: later.count)
                s.retries = []
                s.inFlight = out
                return (out, attempts, pause)
            }
            if batch.isEmpty { return }
            if pause > 0 { try? await Task.sleep(nanoseconds: pause * 1_000_000) }
            let outcomes = await engine.run(batch)
            var settled = 0
            let settle = state.withLockedValue { s -> Bool in
                s.inFlight = []
                return !s.abandoned
            }
            for (k, (item, outcome)) in zip(batch, outcomes).enumerated() {
                if settle, item.retryWhenEmpty, attempts[k] < Self.retryDelaysMs.count, case .reply(let r) = outcome, Self.isEmpty(r),
                    item.primary.map(Self.isEmpty) == false
                {
                    state.withLockedValue { $0.retries.append((item, attempts[k] + 1)) }
                    continue
                }
                settled += 1
                if settle { engine.settle(item, outcome: outcome) }
            }
            engine.releaseQueueSlots(settled, answered: outcomes.contains { if case .reply = $0 { true } else { false } })
        }
    }

    /// Nothing popped: a null, an empty array, or a ZREM that removed nothing.
    private static func isEmpty(_ v: RESPValue) -> Bool {
        if v.isNull || v == .integer(0) { return true }
        if case .array(let a?) = v { return a.isEmpty }
        return false
    }

    /// Gives up on everything not yet mirrored (shutdown's deadline passed): records it as dropped.
    func abandon() {
        let (queued, inFlight) = state.withLockedValue { s -> ([MirrorItem], [MirrorItem]) in
            s.abandoned = true
            let q = Array(s.items) + s.retries.map(\.item)
            s.items.removeAll()
            s.retries = []
            let f = s.inFlight
            s.inFlight = []
            return (q, f)
        }
        engine.releaseQueueSlots(queued.count)
        for item in inFlight + queued { engine.settle(item, outcome: .dropped) }
    }
}
