import NIOCore
import RESP
import RedisClient

/// One mirror lane of one event loop: the mirrored commands of connections on that loop, each
/// connection's in the order the primary answered them.
///
/// Lives on its loop: sessions append, and one batch at a time goes to the mirror side, so it sees
/// each connection's commands in order; the loop never waits for it. When the mirror is one Redis,
/// the lane writes its batches on a connection of its own loop and reads the replies there, with no
/// task and no thread hop: `perf` put the hops (a task per batch, a futex wake-up each way) at as
/// much CPU as the proxying itself at pipeline 1 (60 against 33 µs per mirrored SET). Other
/// mirrors (Upstash, a cluster) and transactions run through `ShadowEngine.run` in a task. The
/// bound is global (`ShadowEngine.reserveQueueSlot`): past it, items are dropped and their keys
/// recorded as divergent.
final class MirrorQueue {
    let loop: any EventLoop
    private let engine: ShadowEngine
    private var items = CircularBuffer<MirrorItem>()
    private var inFlight: [MirrorItem] = []
    /// Pops the mirror answered empty: run again after what arrives meanwhile (`MirrorItem.retryWhenEmpty`).
    private var retries: [(item: MirrorItem, attempts: Int)] = []
    private var running = false
    private var abandoned = false
    private var direct: RedisConnection?
    private var connecting = false
    /// Tries of a pop that found nothing, and the pause before each: about 0.6 s in all.
    static let retryDelaysMs: [Int64] = [1, 5, 20, 50, 100, 150, 250]

    init(engine: ShadowEngine, loop: any EventLoop) {
        self.engine = engine
        self.loop = loop
    }

    /// Queues an item; never blocks. Drops it (recording its keys) when the global bound is reached.
    /// True when the session should hold its client until the mirror side catches up.
    @discardableResult
    func enqueue(_ item: MirrorItem, at now: NIODeadline) -> Bool {
        guard case .taken(let hold) = engine.reserveQueueSlot(at: now) else {
            engine.settle(item, outcome: .dropped)
            return false
        }
        if abandoned {
            engine.releaseQueueSlots(1)
            engine.settle(item, outcome: .dropped)
            return false
        }
        items.append(item)
        if !running {
            running = true
            // After this turn of the loop: what its other clients send joins the batch.
            let bound = NIOLoopBound(self, eventLoop: loop)
            loop.execute { bound.value.next() }
        }
        return hold
    }

    /// Sends the next batch, or stops when nothing waits.
    private func next() {
        guard !abandoned, !items.isEmpty || !retries.isEmpty else {
            running = false
            return
        }
        var fresh: [MirrorItem] = []
        fresh.reserveCapacity(min(items.count, engine.configuration.mirrorBatch))
        while fresh.count < engine.configuration.mirrorBatch, let i = items.popFirst() { fresh.append(i) }
        guard !retries.isEmpty else {
            inFlight = fresh
            return send(fresh, [Int](repeating: 0, count: fresh.count))
        }
        // Retried pops go after what other connections sent since (the push they wait for may be
        // among it) and before what their own connection sent since (which came after them).
        let waiting = Set(retries.map(\.item.connection))
        let others = fresh.filter { !waiting.contains($0.connection) }
        let later = fresh.filter { waiting.contains($0.connection) }
        let pause = fresh.isEmpty ? Self.retryDelaysMs[min(retries.map(\.attempts).min() ?? 0, Self.retryDelaysMs.count - 1)] : 0
        var batch = others
        var attempts = [Int](repeating: 0, count: others.count)
        for r in retries {
            batch.append(r.item)
            attempts.append(r.attempts)
        }
        batch += later
        attempts += [Int](repeating: 0, count: later.count)
        retries = []
        inFlight = batch
        guard pause > 0 else { return send(batch, attempts) }
        let bound = NIOLoopBound(self, eventLoop: loop)
        let retried = (batch, attempts)
        loop.scheduleTask(in: .milliseconds(pause)) { bound.value.send(retried.0, retried.1) }
    }

    private func send(_ batch: [MirrorItem], _ attempts: [Int]) {
        let bound = NIOLoopBound(self, eventLoop: loop)
        let outcomes: EventLoopFuture<[MirrorOutcome]>
        if let direct = directConnection(), let run = engine.runDirect(batch, on: direct) {
            outcomes = run
        } else {
            let engine = self.engine
            outcomes = loop.makeFutureWithTask { await engine.run(batch) }
        }
        outcomes.whenSuccess { bound.value.finished(batch, attempts, $0) }
    }

    /// Settles a batch the mirror side answered (or failed), and sends the next.
    private func finished(_ batch: [MirrorItem], _ attempts: [Int], _ outcomes: [MirrorOutcome]) {
        inFlight = []
        // Abandoned meanwhile: `close(abandoning:)` settled the batch as dropped.
        let settle = !abandoned
        var settled = 0
        for (k, (item, outcome)) in zip(batch, outcomes).enumerated() {
            if settle, item.retryWhenEmpty, attempts[k] < Self.retryDelaysMs.count, case .reply(let r) = outcome, Self.isEmpty(r),
                item.primary.map(Self.isEmpty) == false
            {
                retries.append((item, attempts[k] + 1))
                continue
            }
            settled += 1
            if settle { engine.settle(item, outcome: outcome) }
        }
        engine.releaseQueueSlots(settled, answered: outcomes.contains { if case .reply = $0 { true } else { false } })
        next()
    }

    /// The lane's own connection to a Redis mirror, once it is up; while it connects (in the
    /// background), batches go through `ShadowEngine.run`.
    private func directConnection() -> RedisConnection? {
        guard let (url, options) = engine.directMirror else { return nil }
        if let direct, direct.isActive { return direct }
        direct = nil
        guard !connecting, !abandoned, !engine.isDown else { return nil }
        connecting = true
        let bound = NIOLoopBound(self, eventLoop: loop)
        let loop = self.loop
        Task {
            let connection = try? await RedisConnection.connect(to: url, options: options, group: loop)
            loop.execute {
                let lane = bound.value
                lane.connecting = false
                guard let connection else { return }
                if lane.abandoned {
                    Task { await connection.close() }
                } else {
                    lane.direct = connection
                }
            }
        }
        return nil
    }

    /// Nothing popped: a null, an empty array, or a ZREM that removed nothing.
    private static func isEmpty(_ v: RESPValue) -> Bool {
        if v.isNull || v == .integer(0) { return true }
        if case .array(let a?) = v { return a.isEmpty }
        return false
    }

    /// Shutdown: closes the lane's connection; with `abandoning` (the deadline passed), gives up on
    /// everything not yet mirrored and records it as dropped.
    func close(abandoning: Bool) {
        if let direct { Task { await direct.close() } }
        direct = nil
        guard abandoning else { return }
        abandoned = true
        let queued = Array(items) + retries.map(\.item)
        items.removeAll()
        retries = []
        let f = inFlight
        inFlight = []
        engine.releaseQueueSlots(queued.count)
        for item in f + queued { engine.settle(item, outcome: .dropped) }
    }
}
