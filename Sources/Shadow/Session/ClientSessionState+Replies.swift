import NIOCore
import RESP

extension ClientSessionState {
    /// Bytes from the primary. In shadow mode they go to the client as they came (less the proxy's
    /// own replies); in dual-write mode a mirrored command's reply waits, with every reply behind it.
    /// `nowMs` is the wall clock (Unix milliseconds), for the absolute expiries a mirror is given.
    mutating func primaryRead(_ chunk: ByteBuffer, nowMs: Int64) -> Action {
        read(chunk, nowMs: nowMs, limit: .max).action
    }

    /// Reads at most `limit` replies from `chunk` (the rest belongs to other clients of a shared
    /// connection); returns the action, the bytes read and the replies that ended in them.
    mutating func read(_ chunk: ByteBuffer, nowMs: Int64, limit: Int) -> (action: Action, consumed: Int, replies: Int) {
        switch phase {
        case .closed: return (.none, 0, 0)
        case .replication, .subscribed:
            if held.isEmpty { return (.deliver(chunk, mirror: [], forward: nil), chunk.readableBytes, 0) }
            held.append(Held(bytes: chunk, token: 0, ready: true))
            return (finishDelivery(releaseHeld(), mirror: [], forward: nil), chunk.readableBytes, 0)
        case .connecting, .open: break
        }
        self.nowMs = nowMs
        var mirrors: [Mirroring] = []
        var out: ByteBuffer?
        var forward: ByteBuffer?
        var garbage = false
        var refusedSetup = false
        let dualWrite = policy.dualWrite
        // Bytes from `keepFrom` on go to the client (shadow mode); nil inside a reply that is the proxy's own.
        var keepFrom: Int? = !scanner.atBoundary && isSwallow(awaiting.first) ? nil : 0
        var switched = false
        var replies = 0
        var pos = 0
        chunk.withUnsafeReadableBytes { raw in
            func keep(_ range: Range<Int>) {
                guard !dualWrite, !range.isEmpty, var slice = chunk.getSlice(at: chunk.readerIndex + range.lowerBound, length: range.count)
                else { return }
                if out == nil { out = slice } else { out!.writeBuffer(&slice) }
            }
            while pos < raw.count && !switched && replies < limit {
                if scanner.atBoundary {
                    startReply(at: pos)
                    if isSwallow(awaiting.first), let from = keepFrom {
                        keep(from..<pos)
                        keepFrom = nil
                    }
                }
                let found: RESPFrameScanner.Frame?
                do {
                    found = try scanner.next(raw, from: pos)
                } catch {
                    garbage = true
                    return
                }
                let end = found?.end ?? raw.count
                var bytes: ByteBuffer?
                if wantsBytes {
                    if found != nil, let start = captureStart {
                        // Whole in this chunk: a slice of it, no copy.
                        bytes = chunk.getSlice(at: chunk.readerIndex + start, length: end - start)
                    } else {
                        appendCapture(UnsafeRawBufferPointer(rebasing: raw[(captureStart ?? pos)..<end]))
                        captureStart = nil
                        if found != nil { bytes = capture }
                    }
                }
                pos = end
                guard let found else { break }
                capture = nil
                replies += 1
                let outcome = replyCompleted(push: found.isPush, isError: found.isError, bytes: bytes, mirrors: &mirrors)
                if keepFrom == nil && !isSwallowing { keepFrom = pos }
                switch outcome {
                case .continue: break
                case .refusedSetup:
                    refusedSetup = true
                    return
                case .switched:
                    switched = true
                    // The client's buffered bytes are the stream's now: they pass unread.
                    if input.readableBytes > 0 {
                        forward = input
                        input = ByteBuffer()
                    }
                    if dualWrite, pos < raw.count, let rest = chunk.getSlice(at: chunk.readerIndex + pos, length: raw.count - pos) {
                        held.append(Held(bytes: rest, token: 0, ready: true))
                    }
                }
            }
            if switched { pos = raw.count }
            if let from = keepFrom { keep(from..<pos) }
        }
        if garbage {
            primaryBroken = true
            return (
                close(ClientSessionState.errorLine("ERR upshift: the primary sent bytes that are not RESP"), reason: .primaryGarbage),
                chunk.readableBytes, replies
            )
        }
        if refusedSetup {
            return (
                close(
                    ClientSessionState.errorLine("ERR upshift: the primary refused the proxy's login or database selection"),
                    reason: .primaryRefusedSetup), pos, replies
            )
        }
        if dualWrite { out = releaseHeld() }
        if var select = pendingSelect {
            pendingSelect = nil
            if var f = forward { select.writeBuffer(&f) }
            forward = select
        }
        if !barrier && phase == .open && failure == nil && input.readableBytes > 0 {
            if let more = frame() {
                if forward == nil { forward = more } else { var m = more; forward!.writeBuffer(&m) }
            }
        }
        return (finishDelivery(out, mirror: mirrors, forward: forward), pos, replies)
    }

    /// True while the proxy stops reading the client (a protocol error waits for replies owed).
    var stopsReadingClient: Bool { failure != nil && phase != .closed }

    private var isSwallowing: Bool { isSwallow(awaiting.first) && !scanner.atBoundary }

    private func isSwallow(_ p: Pending?) -> Bool {
        if case .swallow? = p { return true }
        return false
    }

    private enum Outcome {
        case `continue`, refusedSetup, switched
    }

    /// A reply begins at `start`: keep its bytes when its value is needed.
    private mutating func startReply(at start: Int) {
        captureOverflow = false
        capture = nil
        wantsBytes = policy.dualWrite || needsValue(awaiting.first)
        captureStart = wantsBytes ? start : nil
    }

    private func needsValue(_ p: Pending?) -> Bool {
        switch p {
        case .mirror?: return true
        case .exec(let t?)?: return t.mirrorable && !t.commands.isEmpty
        default: return false
        }
    }

    private mutating func appendCapture(_ bytes: UnsafeRawBufferPointer) {
        guard wantsBytes, !captureOverflow else { return }
        if !policy.dualWrite && (capture?.readableBytes ?? 0) + bytes.count > policy.largestComparedReply {
            capture = nil
            captureOverflow = true
            return
        }
        if capture == nil { capture = ByteBuffer() }
        capture!.writeBytes(bytes)
    }

    /// One whole reply arrived: pair it with its command and act on it.
    private mutating func replyCompleted(push: Bool, isError: Bool, bytes: ByteBuffer?, mirrors: inout [Mirroring]) -> Outcome {
        if push, !isSubscribe(awaiting.first) {
            // Out of band (RESP3 pub/sub, invalidations): not the answer to anything.
            if policy.dualWrite, let bytes { held.append(Held(bytes: bytes, token: 0, ready: true)) }
            return .continue
        }
        guard let pending = awaiting.popFirst() else {
            // A reply nobody asked for (the server's own, before it closes): it still goes to the client.
            if policy.dualWrite, let bytes { held.append(Held(bytes: bytes, token: 0, ready: true)) }
            return .continue
        }
        if case .swallow = pending {} else { answeredCount += 1 }
        var token: UInt64?
        var outcome = Outcome.continue
        switch pending {
        case .pass:
            break
        case .swallow:
            barrier = false
            if isError { return .refusedSetup }
            return resumeOrSwitch(outcome)
        case .incompatible(let name):
            mirrors.append(.incompatible(name))
        case .auth:
            barrier = false
            if !isError { loggedIn() }
            sharedLogin(succeeded: !isError)
        case .hello(let proto):
            barrier = false
            if !isError {
                if let proto { resp3 = proto }
                loggedIn()
            }
        case .select(let db):
            barrier = false
            if !isError { database = db }
        case .reset:
            barrier = false
            resp3 = false
            database = 0
            transaction = nil
            parser.authenticated = !policy.requiresAuth
            databaseSelected = policy.homeDatabase == 0
            if !databaseSelected && authenticated { queueSelectHome() }
        case .subscribe:
            barrier = false
            mirrors.append(.incompatible("SUBSCRIBE"))
            if !isError {
                phase = .subscribed
                outcome = .switched
            }
        case .replication:
            break
        case .unmirrored(let command, let why):
            if !isError {
                mirrors.append(
                    .unmirrored(
                        command: command.traits.name, keys: classifier.keys(in: command.arguments), why: why,
                        diverges: command.database == policy.homeDatabase))
            }
        case .mirror(let command):
            if command.traits.blockingPop { mirrors.append(.incompatible(command.traits.name)) }
            token = mirror(command, bytes, mirrors: &mirrors)
        case .exec(let t?):
            token = mirror(t, bytes, isError: isError, mirrors: &mirrors)
        case .exec(nil):
            break
        }
        if policy.dualWrite, let bytes {
            held.append(Held(bytes: bytes, token: token ?? 0, ready: token == nil))
        }
        return resumeOrSwitch(outcome)
    }

    /// A SYNC next in line turns the connection into a replication stream now.
    private mutating func resumeOrSwitch(_ outcome: Outcome) -> Outcome {
        if case .replication? = awaiting.first, phase == .open {
            phase = .replication
            return .switched
        }
        return outcome
    }

    private func isSubscribe(_ p: Pending?) -> Bool {
        if case .subscribe? = p { return true }
        return false
    }

    private mutating func loggedIn() {
        parser.authenticated = true
        if !databaseSelected { queueSelectHome() }
    }

    /// The URL's database, selected once the client may select: ahead of whatever it sends next.
    private mutating func queueSelectHome() {
        pendingSelect = selectHome()
    }

    /// Queues one command's effect for the mirror; returns the dual-write token, if it waits.
    private mutating func mirror(_ command: PendingCommand, _ bytes: ByteBuffer?, mirrors: inout [Mirroring]) -> UInt64? {
        let t = command.traits
        guard let value = bytes.flatMap(Self.value) else {
            if t.mayWrite {
                mirrors.append(
                    .unmirrored(
                        command: t.name, keys: classifier.keys(in: command.arguments), why: "its reply was too large to read",
                        diverges: command.database == policy.homeDatabase))
            }
            return nil
        }
        if t.special == .evalsha, case .error(let e) = value, e.starts(with: Array("NOSCRIPT".utf8)) { return nil }
        guard var effect = MirrorEffect.of(command.arguments, traits: t, reply: value, nowMs: nowMs) else { return nil }
        if !command.prefix.isEmpty {
            effect.arguments = DatabaseMapping.prefixed(effect.arguments, command.prefix, classifier: classifier)
        }
        let token = nextMirrorToken()
        // The replies still owed in this read are mostly mirrored too: one allocation, not a doubling per few.
        if mirrors.capacity == 0 { mirrors.reserveCapacity(min(awaiting.count + 1, 64)) }
        mirrors.append(
            .item(
                MirrorRequest(
                    unit: .single(RESPCommand(arguments: effect.arguments), effect.traits),
                    keys: classifier.keys(in: effect.arguments), expected: effect.expected,
                    isWrite: t.mayWrite, resp3: resp3, retryWhenEmpty: effect.retryWhenEmpty, token: token)))
        return token
    }

    /// EXEC answered: the transaction's effects go to the mirror as one transaction.
    private mutating func mirror(_ t: Transaction, _ bytes: ByteBuffer?, isError: Bool, mirrors: inout [Mirroring]) -> UInt64? {
        guard !isError else { return nil }
        if !t.mirrorable {
            // An aborted transaction (WATCH, EXECABORT) changed nothing.
            let ran = bytes.flatMap(Self.value)?.array != nil || bytes == nil
            guard ran, !t.lostKeys.isEmpty else { return nil }
            if let why = t.unmirrored {
                mirrors.append(.unmirrored(command: "MULTI", keys: t.lostKeys, why: why, diverges: false))
            } else {
                mirrors.append(.divergent(t.lostKeys))
            }
            return nil
        }
        guard let results = bytes.flatMap(Self.value)?.array, results.count == t.commands.count else { return nil }
        var commands: [RESPCommand] = []
        var traits: [CommandTraits] = []
        var expected: [RESPValue] = []
        var isWrite = false
        var keys: [[UInt8]] = []
        var seen = Set<[UInt8]>()
        for (command, result) in zip(t.commands, results) {
            guard var effect = MirrorEffect.of(command.arguments, traits: command.traits, reply: result, nowMs: nowMs) else { continue }
            if !command.prefix.isEmpty {
                effect.arguments = DatabaseMapping.prefixed(effect.arguments, command.prefix, classifier: classifier)
            }
            commands.append(RESPCommand(arguments: effect.arguments))
            for k in classifier.keys(in: effect.arguments) where seen.insert(k).inserted { keys.append(k) }
            traits.append(effect.traits)
            expected.append(effect.expected)
            isWrite = isWrite || command.traits.mayWrite
        }
        guard !commands.isEmpty else { return nil }
        let token = nextMirrorToken()
        mirrors.append(
            .item(
                MirrorRequest(
                    unit: .transaction(commands, traits), keys: keys, expected: .array(expected), isWrite: isWrite, resp3: resp3,
                    retryWhenEmpty: false, token: token)))
        return token
    }

    private mutating func nextMirrorToken() -> UInt64? {
        guard policy.dualWrite else { return nil }
        nextToken += 1
        return nextToken
    }

    /// A whole reply's value in RESP2 shapes; nil when it is deeper than values are built.
    static func value(_ bytes: ByteBuffer) -> RESPValue? {
        bytes.withUnsafeReadableBytes { RESPParser.value(ofFrame: $0) }
    }
}
