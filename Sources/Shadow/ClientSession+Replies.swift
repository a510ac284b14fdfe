import NIOCore
import RESP

extension ClientSession {
    /// Acts on the primary's reply to one command: queues what is mirrored. Returns the token a
    /// dual-write reply waits on, nil when the reply may go out at once.
    func handleReply(_ reply: RESPValue, _ action: Action, dualWrite: Bool) -> UInt64? {
        switch action {
        case .none:
            return nil
        case .mirror(let command, let traits):
            // The script did not run on the primary; the client will load it and retry.
            if traits.special == .evalsha, case .error(let e) = reply, e.starts(with: Array("NOSCRIPT".utf8)) { return nil }
            var command = command
            // XADD * lets each server pick its own id: give the mirror the id the primary chose.
            if traits.name == "XADD", case .bulkString(let id?) = reply,
                let star = command.arguments.indices.dropFirst(2).first(where: { command.arguments[$0] == [UInt8(ascii: "*")] })
            {
                command.arguments[star] = id
            }
            return enqueue(
                .single(command), traits: [traits], keys: classifier.keys(in: command.arguments), isWrite: traits.mayWrite,
                primary: reply, dualWrite: dualWrite)
        case .exec(let commands?, _):
            // An aborted transaction (WATCH, EXECABORT) ran nothing on the primary: nothing to mirror.
            guard reply.array != nil else { return nil }
            var keys: [[UInt8]] = []
            var seen = Set<[UInt8]>()
            for (c, _) in commands {
                for k in classifier.keys(in: c.arguments) where seen.insert(k).inserted { keys.append(k) }
            }
            return enqueue(
                .transaction(commands.map(\.0)), traits: commands.map(\.1), keys: keys, isWrite: commands.contains { $0.1.mayWrite },
                primary: reply, dualWrite: dualWrite)
        case .exec(nil, let lostKeys):
            if reply.array != nil { engine.divergent.insert(lostKeys) }
            return nil
        case .passthrough:
            // A refused SUBSCRIBE (bad arity, or Upstash after the flip) leaves the connection as it was.
            if !reply.isError {
                subscribed = true
                primaryPassthrough = true
            }
            return nil
        }
    }

    private func enqueue(
        _ unit: MirrorItem.Unit, traits: [CommandTraits], keys: [[UInt8]], isWrite: Bool, primary: RESPValue, dualWrite: Bool
    ) -> UInt64? {
        let snapshot = engine.tracker.executed(keys: keys, connection: id, isWrite: isWrite)
        var token: UInt64? = nil
        var completion: (@Sendable () -> Void)? = nil
        if dualWrite, let context {
            nextToken += 1
            let t = nextToken
            token = t
            let loop = context.eventLoop
            let bound = NIOLoopBound(self, eventLoop: loop)
            completion = { loop.execute { bound.value.mirrorSettled(t) } }
        }
        let item = MirrorItem(
            unit: unit, traits: traits, keys: keys, isWrite: isWrite, primary: primary, connection: id, snapshot: snapshot,
            primaryAt: .now(), resp3: resp3, completion: completion)
        queue.enqueue(item)
        return token
    }

    /// Dual-write: sends a reply now, or holds it behind earlier replies still waiting for the mirror.
    func emit(_ bytes: ByteBuffer, waitingFor token: UInt64?) {
        guard let context else { return }
        if token == nil && held.isEmpty {
            context.write(wrapOutboundOut(bytes), promise: nil)
        } else {
            held.append(HeldReply(bytes: bytes, token: token ?? 0, ready: token == nil))
        }
    }

    /// Dual-write: the mirror settled the command behind `token`; release what is ready, in order.
    func mirrorSettled(_ token: UInt64) {
        guard let context, !closed else { return }
        if let i = held.firstIndex(where: { $0.token == token && !$0.ready }) { held[i].ready = true }
        var wrote = false
        while let first = held.first, first.ready {
            held.removeFirst()
            context.write(wrapOutboundOut(first.bytes), promise: nil)
            wrote = true
        }
        if wrote { context.flush() }
        finishIfErrored()
    }
}

/// The primary connection's end of a session: hands everything to the session on the same event loop.
final class PrimaryHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private var session: ClientSession?

    init(session: ClientSession) {
        self.session = session
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        session?.primaryRead(unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        session?.primaryReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        session?.primaryClosed()
        session = nil
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        session?.primaryWritabilityChanged(context.channel.isWritable)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// A small fast generator for read sampling: no system call per command.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
