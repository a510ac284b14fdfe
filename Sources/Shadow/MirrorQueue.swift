import NIOConcurrencyHelpers
import NIOCore

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
        var running = false
        var abandoned = false
    }
    private let state = NIOLockedValueBox(State())
    private let engine: ShadowEngine

    init(engine: ShadowEngine) {
        self.engine = engine
    }

    /// Queues an item; never blocks. Drops it (recording its keys) when the global bound is reached.
    func enqueue(_ item: MirrorItem) {
        guard engine.reserveQueueSlot() else {
            engine.settle(item, outcome: .dropped)
            return
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
            return
        }
        if start { Task { await self.drain() } }
    }

    private func drain() async {
        let batchLimit = engine.configuration.mirrorBatch
        while true {
            let batch = state.withLockedValue { s -> [MirrorItem] in
                if s.items.isEmpty || s.abandoned {
                    s.running = false
                    return []
                }
                var out: [MirrorItem] = []
                while out.count < batchLimit, let i = s.items.popFirst() { out.append(i) }
                s.inFlight = out
                return out
            }
            if batch.isEmpty { return }
            let outcomes = await engine.run(batch)
            let settle = state.withLockedValue { s -> Bool in
                s.inFlight = []
                return !s.abandoned
            }
            engine.releaseQueueSlots(batch.count)
            if settle {
                for (item, outcome) in zip(batch, outcomes) { engine.settle(item, outcome: outcome) }
            }
        }
    }

    /// Gives up on everything not yet mirrored (shutdown's deadline passed): records it as dropped.
    func abandon() {
        let (queued, inFlight) = state.withLockedValue { s -> ([MirrorItem], [MirrorItem]) in
            s.abandoned = true
            let q = Array(s.items)
            s.items.removeAll()
            let f = s.inFlight
            s.inFlight = []
            return (q, f)
        }
        engine.releaseQueueSlots(queued.count)
        for item in inFlight + queued { engine.settle(item, outcome: .dropped) }
    }
}
