import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RESP
import RedisClient

/// What every client session shares: the mirror side, the comparer, the records and the counters.
final class ShadowEngine: Sendable {
    let configuration: ShadowConfiguration
    let table: CommandTable
    let mirror: any Backend
    /// Who answers clients when it is not one connection per client to `configuration.primary`:
    /// Upstash after the flip (`mirror` is then the old Redis), or a Redis Cluster.
    let pooledPrimary: PooledPrimary?
    let metrics: ShadowMetrics
    let divergent: DivergentKeys
    let scripts = ScriptRegistry()
    let tracker = KeyWriteTracker()
    let log: MismatchLog?
    let logger: Logger
    private let comparer: ReplyComparer
    private let rendering: ReplyRendering
    private let backlog: NIOLockedValueBox<(state: MirrorBacklog, waiters: [@Sendable () -> Void])>
    /// How long a held session waits for a mirror that answers nothing before it is called stuck.
    static let mirrorStallAfter = TimeAmount.milliseconds(250)
    private let downUntil = NIOLockedValueBox<NIODeadline?>(nil)
    /// A connection's mirrored items all go to one lane of its event loop, so they reach the other
    /// side in order; a lane sends whatever is waiting as one batch, one batch at a time, so
    /// connections share round trips.
    private let lanes = PerLoop<[MirrorQueue]>()
    /// The mirror when it is one Redis: each lane then writes to it on a connection of its own loop.
    let directMirror: (url: RedisURL, options: RedisConnectionOptions)?
    private let nextConnection = NIOLockedValueBox<UInt64>(0)

    /// What every client session is set up with.
    let sessionPolicy: ClientSessionState.Policy
    /// Each event loop's shared primary connections.
    private let shared = PerLoop<SharedPrimaries>()
    private let recovering = NIOLockedValueBox(false)
    /// Diffs whose verdict (`race` or `diff`) waits out the key tracker's window.
    private let pendingVerdicts = NIOLockedValueBox(0)

    init(
        configuration: ShadowConfiguration, table: CommandTable, mirror: any Backend, pooledPrimary: PooledPrimary?,
        metrics: ShadowMetrics, divergent: DivergentKeys, logger: Logger, requiresAuth: Bool = false
    ) throws {
        var policy = ClientSessionState.Policy()
        policy.dualWrite = configuration.mode == .dualWrite
        policy.mirrorWrites = configuration.mirrorWrites
        policy.mirrorReads = configuration.mirrorReads
        policy.readSample = configuration.readSample
        policy.homeDatabase = pooledPrimary == nil ? configuration.primary.database : 0
        policy.databases = configuration.databases
        policy.limits = RequestParser.Limits(maxBulk: configuration.maxBulk, maxRequest: configuration.maxRequest)
        policy.requiresAuth = requiresAuth
        policy.maxBuffered = configuration.maxClientBuffer
        policy.pooled = pooledPrimary != nil
        policy.sharing = pooledPrimary == nil && configuration.sharedConnections
        if configuration.logsClientsIn, pooledPrimary == nil, let password = configuration.primary.password {
            policy.login = [Array("AUTH".utf8)] + (configuration.primary.username.map { [Array($0.utf8)] } ?? []) + [Array(password.utf8)]
        }
        self.sessionPolicy = policy
        self.pooledPrimary = pooledPrimary
        self.configuration = configuration
        self.backlog = NIOLockedValueBox(
            (MirrorBacklog(limit: configuration.queueLimit, stallAfter: Self.mirrorStallAfter, now: .now()), []))
        self.table = table
        self.mirror = mirror
        self.metrics = metrics
        self.divergent = divergent
        self.logger = logger
        self.log = try configuration.mismatchLogPath.map { try MismatchLog(path: $0) }
        self.comparer = ReplyComparer(ttlToleranceMs: configuration.ttlToleranceMs)
        self.rendering = ReplyRendering(showValues: configuration.showValues)
        self.directMirror = (mirror as? RedisClient).map { ($0.url, $0.options) }
    }

    // MARK: connections

    /// A new connection id.
    func openConnection() -> UInt64 {
        nextConnection.withLockedValue { n -> UInt64 in
            n += 1
            return n
        }
    }

    /// The mirror lane of `loop` (called on it) that connection `id`'s items go through. One lane per
    /// loop writing to a Redis (its batches grow with the load); two for a mirror farther away, so
    /// a round trip to Upstash does not hold every connection of the loop.
    func lane(on loop: any EventLoop, connection id: UInt64) -> MirrorQueue {
        let lanes = self.lanes.value(on: loop) { (0..<(directMirror == nil ? 2 : 1)).map { _ in MirrorQueue(engine: self, loop: loop) } }
        return lanes[Int(id % UInt64(lanes.count))]
    }

    /// The shared primary connections of `loop` (called on it).
    func sharedPrimaries(on loop: any EventLoop) -> SharedPrimaries {
        shared.value(on: loop) { SharedPrimaries(loop: loop, engine: self) }
    }

    /// Closes every shared primary connection (the proxy shuts down).
    func closeShared() async {
        await shared.forEach { $0.closeAll() }
    }

    // MARK: what sessions hand over

    /// Queues a session's mirror work on its lane (on the lane's loop); true when the session should
    /// hold its client until the mirror side catches up (`waitForMirror`).
    func enqueue(_ request: MirrorRequest, connection: UInt64, queue: MirrorQueue, completion: (@Sendable () -> Void)?) -> Bool {
        let keys = request.keys
        // One clock read serves the tracker, the item and the bound (three were 1.5 % of the CPU).
        let now = NIODeadline.now()
        let snapshot = tracker.executed(keys: keys, connection: connection, isWrite: request.isWrite, at: now)
        return queue.enqueue(
            MirrorItem(
                unit: request.unit, keys: keys, isWrite: request.isWrite, primary: request.expected,
                connection: connection, snapshot: snapshot, primaryAt: now, resp3: request.resp3, retryWhenEmpty: request.retryWhenEmpty,
                completion: completion), at: now)
    }

    /// Counts and records what a session saw that is not a mirror item.
    func record(_ mirroring: Mirroring, connection: UInt64) {
        switch mirroring {
        case .item: break
        case .incompatible(let name): metrics.incompatible(name)
        case .divergent(let keys): divergent.insert(keys)
        case .unmirrored(let command, let keys, let why, let diverges):
            metrics.mismatch(.notMirrored)
            if diverges { divergent.insert(keys) }
            note(.notMirrored, connection: connection, command: command, keys: keys, detail: why)
        case .protocolError(let reason):
            metrics.mismatch(.protocolError)
            note(.protocolError, connection: connection, command: "-", keys: [], detail: "client closed: Protocol error: \(reason)")
        case .replication(let command):
            metrics.mismatch(.notMirrored)
            note(
                .notMirrored, connection: connection, command: command, keys: [], detail: "replication stream passed through, not mirrored")
        }
    }

    private func note(_ c: MismatchClass, connection: UInt64, command: String, keys: [[UInt8]], detail: String) {
        log?.append(
            MismatchRecord(
                time: Date(), connection: connection, command: command, keys: keys, primary: detail, mirror: "(not sent)", mismatchClass: c,
                lagMs: 0))
    }

    // MARK: the bound

    func reserveQueueSlot(at now: NIODeadline) -> MirrorBacklog.Slot {
        // The gauge in the metrics is set when slots are released: no second lock per command here.
        backlog.withLockedValue { $0.state.reserve(now: now) }
    }

    /// `n` commands settled; `answered`: the mirror side replied to their batch.
    func releaseQueueSlots(_ n: Int, answered: Bool = false) {
        guard n > 0 || answered else { return }
        metrics.setQueueDepth(changeBacklog { $0.release(n, answered: answered, now: .now()) })
    }

    /// A held session's `resume` runs once the mirror has caught up (or is found stuck); false when
    /// nobody is held any more and the session should resume at once.
    func waitForMirror(_ resume: @escaping @Sendable () -> Void) -> Bool {
        backlog.withLockedValue { b in
            guard b.state.holding else { return false }
            b.waiters.append(resume)
            return true
        }
    }

    /// A session held for `mirrorStallAfter`: when the mirror answered nothing meanwhile, every held
    /// session resumes and the backlog only bounds (drops) until the mirror answers again.
    func checkMirrorStall() {
        _ = changeBacklog { $0.checkStall(now: .now()) }
    }

    /// Applies `change` to the backlog; when it stops holding (`change` returns true), every held
    /// session resumes, outside the lock. Returns the depth after it.
    private func changeBacklog(_ change: (inout MirrorBacklog) -> Bool) -> Int {
        let (depth, resume) = backlog.withLockedValue { b -> (Int, [@Sendable () -> Void]) in
            guard change(&b.state) else { return (b.state.depth, []) }
            defer { b.waiters = [] }
            return (b.state.depth, b.waiters)
        }
        for r in resume { r() }
        return depth
    }

    /// Mirrored commands not yet settled.
    var queueDepth: Int { backlog.withLockedValue { $0.state.depth } }

    /// Waits until the mirror queues are empty or `deadline` passes; then records what is left as
    /// dropped, and closes the lanes' connections.
    func drain(until deadline: NIODeadline) async {
        while (queueDepth > 0 || pendingVerdicts.withLockedValue({ $0 }) > 0) && NIODeadline.now() < deadline {
            try? await Task.sleep(nanoseconds: 5_000_000)
        }
        let abandon = queueDepth > 0
        await lanes.forEach { queues in
            for queue in queues { queue.close(abandoning: abandon) }
        }
    }

    // MARK: running items on the mirror side

    /// Runs a batch of items in order; one outcome per item.
    func run(_ items: [MirrorItem]) async -> [MirrorOutcome] {
        if isDown { return items.map { _ in Self.down } }
        let started = NIODeadline.now()
        var outcomes: [MirrorOutcome] = []
        outcomes.reserveCapacity(items.count)
        var i = 0
        do {
            while i < items.count {
                if case .transaction(let commands, _) = items[i].unit {
                    outcomes.append(.reply(try await runTransaction(commands.map(prepare))))
                    i += 1
                    continue
                }
                var j = i
                var commands: [RESPCommand] = []
                while j < items.count, case .single(let c, _) = items[j].unit {
                    commands.append(prepare(c))
                    j += 1
                }
                outcomes += try await afterReplies(commands, try await mirror.send(batch: commands))
                i = j
            }
        } catch {
            return failed(items, error, after: outcomes)
        }
        return answered(items, outcomes, since: started)
    }

    /// The same for a batch of single commands, written on `connection` (a Redis, on the caller's
    /// loop) with no task unless a reply needs another round (BUSY, NOSCRIPT); nil for a batch with a
    /// transaction, which `run` takes. The future never fails: failures are outcomes.
    func runDirect(_ items: [MirrorItem], on connection: RedisConnection) -> EventLoopFuture<[MirrorOutcome]>? {
        var singles: [RESPCommand] = []
        singles.reserveCapacity(items.count)
        for item in items {
            guard case .single(let c, _) = item.unit else { return nil }
            singles.append(prepare(c))
        }
        let commands = singles
        let loop = connection.eventLoop
        if isDown { return loop.makeSucceededFuture(items.map { _ in Self.down }) }
        let started = NIODeadline.now()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(commands.reduce(0) { $0 + $1.encodedSize })
        for c in commands { RESPSerializer.write(c, into: &bytes) }
        return connection.write(encoded: bytes, replyCount: commands.count).flatMap { replies -> EventLoopFuture<[MirrorOutcome]> in
            guard replies.contains(where: Self.needsAnotherRound) else {
                var outcomes: [MirrorOutcome] = []
                outcomes.reserveCapacity(replies.count)
                for (c, r) in zip(commands, replies) {
                    if !r.isError { self.noteScripts(c) }
                    outcomes.append(.reply(r))
                }
                return loop.makeSucceededFuture(self.answered(items, outcomes, since: started))
            }
            return loop.makeFutureWithTask { try await self.answered(items, self.afterReplies(commands, replies), since: started) }
        }.recover { self.failed(items, $0, after: []) }
    }

    /// The mirror failed lately and is not tried again until `mirrorRetryAfter` has passed.
    var isDown: Bool {
        guard let until = downUntil.withLockedValue({ $0 }) else { return false }
        return NIODeadline.now() < until
    }

    private static let down = MirrorOutcome.unavailable("mirror unavailable (retrying shortly)")

    /// A reply the mirror gives when a script keeps it busy, or when it lacks a script the client loaded.
    private static func needsAnotherRound(_ reply: RESPValue) -> Bool {
        isError(reply, "BUSY") || isError(reply, "NOSCRIPT")
    }

    /// One outcome per command from the mirror's replies to them, after stopping a script that kept
    /// it busy and retrying what it refused, and after retrying EVALSHA it lacked as EVAL.
    private func afterReplies(_ commands: [RESPCommand], _ first: [RESPValue]) async throws -> [MirrorOutcome] {
        var replies = first
        if replies.contains(where: Self.isBusy) {
            // A script stuck on the mirror answers BUSY to everything: stop it, then run what it refused.
            await recoverFromBusy()
            let refused = replies.indices.filter { Self.isBusy(replies[$0]) }
            let again = try await mirror.send(batch: refused.map { commands[$0] })
            for (k, r) in zip(refused, again) { replies[k] = r }
        }
        var outcomes: [MirrorOutcome] = []
        outcomes.reserveCapacity(replies.count)
        for (k, reply) in replies.enumerated() {
            outcomes.append(.reply(try await afterReply(commands[k], reply)))
        }
        return outcomes
    }

    /// The mirror answered a batch: it is up, and its round trip and each item's lag are counted.
    private func answered(_ items: [MirrorItem], _ outcomes: [MirrorOutcome], since started: NIODeadline) -> [MirrorOutcome] {
        downUntil.withLockedValue { $0 = nil }
        let now = NIODeadline.now()
        metrics.mirrored(
            items.count, latency: Double((now - started).nanoseconds) / 1e9,
            lags: items.map { Double((now - $0.primaryAt).nanoseconds) / 1e9 })
        return outcomes
    }

    /// The mirror failed a batch: it is down for a while (logged once), and what was not answered is unavailable.
    private func failed(_ items: [MirrorItem], _ error: any Error, after outcomes: [MirrorOutcome]) -> [MirrorOutcome] {
        let wasUp = downUntil.withLockedValue { d -> Bool in
            let up = d == nil || NIODeadline.now() >= d!
            d = NIODeadline.now() + configuration.mirrorRetryAfter
            return up
        }
        if wasUp { logger.warning("mirror side unavailable: \(error)", metadata: ["mirror": "\(mirror.displayName)"]) }
        let reason = Self.describe(error)
        var outcomes = outcomes
        while outcomes.count < items.count { outcomes.append(.unavailable(reason)) }
        return outcomes
    }

    private static func within<T: Sendable>(_ limit: TimeAmount, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(nanoseconds: UInt64(max(0, limit.nanoseconds)))
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else { throw MirrorTimeout() }
            return value
        }
    }

    static func isBusy(_ reply: RESPValue) -> Bool { isError(reply, "BUSY") }

    /// An error reply whose text starts with `code`.
    private static func isError(_ reply: RESPValue, _ code: StaticString) -> Bool {
        guard case .error(let e) = reply else { return false }
        return code.withUTF8Buffer { e.starts(with: $0) }
    }

    /// Stops whatever script or function keeps the mirror busy (one recovery at a time).
    private func recoverFromBusy() async {
        let first = recovering.withLockedValue { r -> Bool in
            defer { r = true }
            return !r
        }
        if first {
            metrics.mirrorRecovered()
            logger.warning("mirror side busy running a script: sending SCRIPT KILL", metadata: ["mirror": "\(mirror.displayName)"])
            _ = try? await Self.within(configuration.mirrorTimeout) { [mirror] in
                try await mirror.send(batch: [RESPCommand("SCRIPT", "KILL"), RESPCommand("FUNCTION", "KILL")])
            }
            recovering.withLockedValue { $0 = false }
        } else {
            try? await Task.sleep(nanoseconds: 50_000_000)
        }
    }

    private func runTransaction(_ commands: [RESPCommand]) async throws -> RESPValue {
        // MULTI…EXEC in one write on a Redis, /multi-exec on Upstash: Backend.transaction knows which.
        let reply = try await mirror.transaction(commands)
        if let results = reply.array {
            for (c, r) in zip(commands, results) where !r.isError { noteScripts(c) }
        }
        return reply
    }

    /// EVALSHA whose script the mirror may not hold becomes EVAL with the text the client sent earlier.
    private func prepare(_ command: RESPCommand) -> RESPCommand {
        guard command.arguments.count > 1, Self.isName(command.arguments[0], "EVALSHA") || Self.isName(command.arguments[0], "EVALSHA_RO")
        else { return command }
        let sha = command.arguments[1]
        guard !scripts.mirrorHas(sha), let text = scripts.text(for: sha) else { return command }
        var args = command.arguments
        args[0] = Array((Self.isName(args[0], "EVALSHA_RO") ? "EVAL_RO" : "EVAL").utf8)
        args[1] = text
        return RESPCommand(arguments: args)
    }

    /// Notes scripts the mirror now holds; on NOSCRIPT (its cache was flushed), retries as EVAL.
    private func afterReply(_ command: RESPCommand, _ reply: RESPValue) async throws -> RESPValue {
        if Self.isError(reply, "NOSCRIPT"), command.arguments.count > 1,
            let text = scripts.text(for: command.arguments[1])
        {
            var args = command.arguments
            args[0] = Array("EVAL".utf8)
            args[1] = text
            let retried = try await mirror.send(RESPCommand(arguments: args))
            if !retried.isError { scripts.mirrorLoaded(ScriptSHA.hex(text)) }
            return retried
        }
        if !reply.isError { noteScripts(command) }
        return reply
    }

    private func noteScripts(_ command: RESPCommand) {
        let a = command.arguments
        guard a.count > 1 else { return }
        if Self.isName(a[0], "EVAL") || Self.isName(a[0], "EVAL_RO") {
            scripts.mirrorLoaded(ScriptSHA.hex(a[1]))
        } else if Self.isName(a[0], "EVALSHA") || Self.isName(a[0], "EVALSHA_RO") {
            scripts.mirrorLoaded(a[1])
        } else if Self.isName(a[0], "SCRIPT") {
            if Self.isName(a[1], "LOAD"), a.count > 2 { scripts.mirrorLoaded(ScriptSHA.hex(a[2])) }
            if Self.isName(a[1], "FLUSH") { scripts.mirrorFlushed() }
        }
    }

    // MARK: settling: compare, classify, record

    /// Compares (or fails) an item and records any mismatch; then releases a waiting dual-write reply.
    func settle(_ item: MirrorItem, outcome: MirrorOutcome) {
        defer { item.completion?() }
        var mismatch: MismatchClass?
        // Rendered only for a record: most replies match (a closure here was an allocation per command).
        var mirrorReply: RESPValue?
        var mirrorText = ""
        switch outcome {
        case .reply(let reply):
            switch (item.unit, item.primary) {
            case (_, nil): mismatch = nil
            case (.single(_, let traits), let primary?):
                mismatch = comparer.classify(traits, primary: primary, mirror: reply, resp3: item.resp3)
            case (.transaction(_, let traits), let primary?):
                mismatch = comparer.classify(transaction: traits, primary: primary, mirror: reply, resp3: item.resp3)
            }
            mirrorReply = reply
        case .unavailable(let why):
            mismatch = .shadowUnavailable
            mirrorText = "(unavailable: \(why))"
        case .dropped:
            mismatch = .dropped
            mirrorText = "(not sent: mirror queue full or shutdown deadline passed)"
        }
        if item.isWrite { tracker.settled(keys: item.keys) }
        guard let mismatch else { return }
        guard mismatch == .diff else { return record(mismatch, item, mirrorReply: mirrorReply, mirrorText: mirrorText) }
        if raced(item) { return record(.race, item, mirrorReply: mirrorReply, mirrorText: mirrorText) }
        // Another event loop's write that the primary ran first may not have been read yet: the
        // verdict waits out the tracker's window (shutdown waits for it too).
        pendingVerdicts.withLockedValue { $0 += 1 }
        let loop = MultiThreadedEventLoopGroup.currentEventLoop ?? MultiThreadedEventLoopGroup.singleton.any()
        loop.scheduleTask(in: tracker.window) { [mirrorReply] in
            self.record(self.raced(item) ? .race : .diff, item, mirrorReply: mirrorReply, mirrorText: "")
            self.pendingVerdicts.withLockedValue { $0 -= 1 }
        }
    }

    private func raced(_ item: MirrorItem) -> Bool {
        tracker.raced(keys: item.keys, connection: item.connection, since: item.snapshot)
    }

    private func record(_ mismatch: MismatchClass, _ item: MirrorItem, mirrorReply: RESPValue?, mirrorText: String) {
        metrics.mismatch(mismatch)
        let divergentKeys: Bool
        switch mismatch {
        case .diff, .race: divergentKeys = true
        case .ttlSkew: divergentKeys = false
        case .nondeterministic, .shadowError, .shadowUnavailable, .dropped, .notMirrored: divergentKeys = item.isWrite
        case .protocolError: divergentKeys = false
        }
        if divergentKeys { divergent.insert(item.keys) }
        log?.append(
            MismatchRecord(
                time: Date(), connection: item.connection, command: item.commandName, keys: item.keys,
                primary: item.primary.map(rendering.render) ?? "(not read)", mirror: mirrorReply.map(rendering.render) ?? mirrorText,
                mismatchClass: mismatch,
                lagMs: Int64((NIODeadline.now() - item.primaryAt).nanoseconds / 1_000_000)))
    }

    /// `bytes` is the command name `name` (upper case ASCII), in any case; allocates nothing.
    static func isName(_ bytes: [UInt8], _ name: StaticString) -> Bool {
        guard bytes.count == name.utf8CodeUnitCount else { return false }
        return name.withUTF8Buffer { n in
            for (a, b) in zip(bytes, n) where (a >= 97 && a <= 122 ? a - 32 : a) != b { return false }
            return true
        }
    }

    static func describe(_ error: any Error) -> String {
        if let e = error as? RedisClientError { return e.description }
        if error is MirrorTimeout { return "no reply within the mirror timeout" }
        return String(describing: type(of: error))
    }
}
