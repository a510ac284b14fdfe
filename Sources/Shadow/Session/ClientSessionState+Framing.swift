import NIOCore
import RESP
import UpstashProfile

extension ClientSessionState {
    /// Frames what the client sent: the commands to forward (multibulk ones as they came, inline
    /// ones re-encoded), each with what its reply is for. Stops at a barrier, a protocol error, or
    /// (on a shared connection) before a command that needs another connection (`move`).
    mutating func frame() -> ByteBuffer? {
        var out: ByteBuffer?
        // Multibulk commands framed but not yet taken from `input`: forwarded as one slice of it.
        var run = 0
        func flush(_ input: inout ByteBuffer, _ out: inout ByteBuffer?, _ run: inout Int) {
            guard run > 0, var slice = input.readSlice(length: run) else { return }
            run = 0
            if out == nil { out = slice } else { out!.writeBuffer(&slice) }
        }
        framing: while !barrier && failure == nil && move == nil && phase == .open && input.readableBytes > run {
            let framed: RequestParser.Frame?
            do {
                framed = try input.withUnsafeReadableBytes { raw throws(ProtocolFailure) in
                    try parser.next(UnsafeRawBufferPointer(rebasing: raw[run...]))
                }
            } catch {
                failure = error
                break
            }
            guard let framed else {
                if parser.wanted > input.readableBytes - run + 64 * 1024 {
                    flush(&input, &out, &run)
                    input.reserveCapacity(minimumWritableBytes: parser.wanted - input.readableBytes)
                }
                break
            }
            switch framed {
            case .ignored(let length):
                flush(&input, &out, &run)
                input.moveReaderIndex(forwardBy: length)
            case .multibulk(let length, let count, let name):
                let pending = input.withUnsafeReadableBytes { all -> Pending? in
                    let raw = UnsafeRawBufferPointer(rebasing: all[run...])
                    let argv = { RequestParser.arguments(UnsafeRawBufferPointer(rebasing: raw[0..<length]), count: count) }
                    let name = UnsafeRawBufferPointer(rebasing: raw[name])
                    let traits = traits(name: name, argv)
                    if isShared, let m = placement(traits, argv) {
                        move = m
                        return nil
                    }
                    return plan(traits, argv)
                }
                // Left unread: it is framed again on the connection it needs.
                guard let pending else { break framing }
                run += length
                record(pending)
            case .inline(let length, let arguments):
                let traits = arguments[0].withUnsafeBytes { name -> CommandTraits in self.traits(name: name) { arguments } }
                if isShared, let m = placement(traits, { arguments }) {
                    move = m
                    break framing
                }
                flush(&input, &out, &run)
                input.moveReaderIndex(forwardBy: length)
                let pending = plan(traits) { arguments }
                if out == nil { out = ByteBuffer() }
                Self.encode(arguments, into: &out!)
                record(pending)
            }
        }
        flush(&input, &out, &run)
        if input.readableBytes == 0 {
            input = ByteBuffer()
        } else if input.readerIndex > 1 << 20 && !parser.inCommand {
            input.discardReadBytes()
        }
        if phase == .replication, input.readableBytes > 0 {
            // Whatever follows SYNC is the replica's, not commands: it passes unread.
            var rest = input
            input = ByteBuffer()
            if out == nil { out = rest } else { out!.writeBuffer(&rest) }
        }
        return out
    }

    private mutating func record(_ pending: Pending) {
        awaiting.append(pending)
        framedCount += 1
        switch pending {
        case .auth, .hello, .select, .reset, .subscribe, .swallow:
            barrier = true
        case .replication:
            barrier = true
            if awaiting.count == 1 { phase = .replication }
        default:
            break
        }
    }

    /// A command's traits, from its name alone unless it is a container (SCRIPT, CLIENT…).
    func traits(name: UnsafeRawBufferPointer, _ argv: () -> [[UInt8]]) -> CommandTraits {
        classifier.traits(name: name) ?? classifier.traits(for: argv())
    }

    /// What a command's reply is for; `argv` builds its arguments when they are needed.
    mutating func plan(_ traits: CommandTraits, _ argv: () -> [[UInt8]]) -> Pending {
        var arguments: [[UInt8]]?
        if traits.unknown { return .pass }
        func args() -> [[UInt8]] {
            if arguments == nil { arguments = argv() }
            return arguments!
        }
        switch traits.special {
        case .multi:
            transaction = Transaction()
            return .pass
        case .exec:
            let t = transaction
            transaction = nil
            return .exec(t)
        case .discard:
            transaction = nil
            return .pass
        case .auth where !authenticated || isShared:
            return .auth
        case .hello:
            let a = args()
            let auth = a.dropFirst(2).contains { ShadowEngine.isName($0, "AUTH") }
            let proto: Bool? = a.count > 1 ? a[1] == [UInt8(ascii: "3")] : nil
            if transaction == nil && (auth && !authenticated || proto != nil) { return .hello(resp3: proto) }
            return .pass
        case .select:
            let a = args()
            if transaction != nil {
                // Applied at EXEC: the transaction's keys cannot be placed; none of it is mirrored.
                transaction?.mirrorable = false
                return .pass
            }
            guard a.count == 2, let db = Int(String(decoding: a[1], as: UTF8.self)), db >= 0 else { return .pass }
            return .select(db)
        case .reset:
            transaction = nil
            return .reset
        case .subscribe where transaction == nil:
            return .subscribe
        case .replication where !policy.pooled && transaction == nil:
            return .replication
        case .eval:
            let a = args()
            if a.count > 1 { scripts.remember(a[1]) }
        case .scriptLoad:
            let a = args()
            if a.count > 2 { scripts.remember(a[2]) }
        default:
            break
        }
        var t = traits
        if t.writeDependsOnScript {
            let a = args()
            let text: [UInt8]? = t.special == .eval ? (a.count > 1 ? a[1] : nil) : (a.count > 1 ? scripts.text(for: a[1]) : nil)
            if let text, ScriptRegistry.declaresNoWrites(text) { t.mayWrite = false }
        }
        let refusal = t.refusalDependsOnArguments ? UpstashCompatibility.refusal(for: args()) : t.refusal
        // XREADGROUP … BLOCK consumes like a blocking pop: mirrored as the same read without BLOCK.
        if refusal == .blocking && t.name == "XREADGROUP" { t.blockingPop = true }
        if refusal != nil && !t.blockingPop {
            if t.mayWrite {
                let command = PendingCommand(arguments: args(), traits: t, prefix: [], database: database)
                if transaction != nil {
                    transaction!.mirrorable = false
                    transaction!.lostKeys += classifier.keys(in: command.arguments)
                    return .incompatible(t.name)
                }
                return .unmirrored(command, why: "\(t.name) is not mirrored (\(refusal!))")
            }
            return .incompatible(t.name)
        }
        guard t.mirrorable else { return .pass }
        let prefix: [UInt8]?
        if database == policy.homeDatabase {
            prefix = []
        } else {
            prefix = policy.databases.prefixes[database]
        }
        guard let prefix else {
            guard t.mayWrite else { return .pass }
            let command = PendingCommand(arguments: args(), traits: t, prefix: [], database: database)
            let why = "written in database \(database), which has no --db-prefix"
            if transaction != nil {
                transaction!.mirrorable = false
                transaction!.unmirrored = why
                transaction!.lostKeys += classifier.keys(in: command.arguments)
                return .pass
            }
            return .unmirrored(command, why: why)
        }
        if transaction != nil {
            transaction!.commands.append(PendingCommand(arguments: args(), traits: t, prefix: prefix, database: database))
            return t.blockingPop ? .incompatible(t.name) : .pass
        }
        guard shouldMirror(t) else { return t.blockingPop ? .incompatible(t.name) : .pass }
        return .mirror(PendingCommand(arguments: args(), traits: t, prefix: prefix, database: database))
    }

    private mutating func shouldMirror(_ traits: CommandTraits) -> Bool {
        if traits.mayWrite { return policy.mirrorWrites }
        guard policy.mirrorReads else { return false }
        let rate = policy.readSample
        if rate >= 1 { return true }
        if rate <= 0 { return false }
        return Double(random.next() >> 11) / Double(1 << 53) < rate
    }
}
