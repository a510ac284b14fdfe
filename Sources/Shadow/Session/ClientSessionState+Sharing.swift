import NIOCore
import RESP

/// Sharing a primary connection (`SharedPrimary`): a client that has done nothing stateful rides a
/// connection shared with the other clients of its event loop, so one write to the primary carries
/// many clients' commands. Which commands keep it there is read from the server's `COMMAND` flags
/// (`CommandTraits.Sharing`). At the first command that changes or reads connection state, the
/// framing stops before it; once every reply owed on the shared connection has arrived, the client
/// moves to a connection of its own (logged in and in its database as before) and stays there.
///
/// AUTH never changes the shared connection it is sent on: it goes to the one shared connection of
/// the event loop whose own login was exactly these arguments, and the client stays there only if the
/// primary answers that AUTH with success. A client that has not logged in, or whose AUTH failed,
/// never rides a connection logged in as anyone: it gets the primary's own NOAUTH or WRONGPASS.
extension ClientSessionState {
    /// Where a framed command may go from a shared connection; nil: over it.
    mutating func placement(_ traits: CommandTraits, _ argv: () -> [[UInt8]]) -> Move? {
        switch traits.sharing {
        case .anywhere:
            return nil
        case .ownConnection:
            return .relink(.own)
        case .quit:
            return .quit
        case .select:
            let a = argv()
            // A malformed SELECT is refused by the primary and changes nothing, on any connection.
            guard a.count == 2, let db = Int(String(decoding: a[1], as: UTF8.self)), db >= 0 else { return nil }
            return db == database ? nil : .relink(.own)
        case .login:
            // The proxy logs every connection in itself (the flip): a client's own AUTH keeps its old meaning there.
            if policy.login != nil { return .relink(.own) }
            let a = argv()
            guard a.count == 2 || a.count == 3 else { return nil }
            let given = Array(a.dropFirst())
            if case .shared(let current) = link, current == given { return nil }
            return .relink(.shared(login: given))
        }
    }

    /// Makes a move the framing stopped at, once nothing is owed on the current connection.
    mutating func takeMove(_ out: ByteBuffer?, mirror: [Mirroring]) -> Action? {
        guard let move, awaiting.isEmpty, failure == nil, phase == .open else { return nil }
        switch move {
        case .quit:
            // After every reply the client is owed, dual-write's held ones included, as redis-server does.
            guard held.isEmpty else { return nil }
            self.move = nil
            var bytes = out ?? ByteBuffer()
            bytes.writeStaticString("+OK\r\n")
            return close(bytes, mirror: mirror, reason: .quit)
        case .relink(let target):
            self.move = nil
            return relink(to: target, out, mirror: mirror)
        }
    }

    mutating func relink(to target: Link, _ out: ByteBuffer?, mirror: [Mirroring]) -> Action {
        phase = .connecting
        link = target
        if case .own = target {
            // The new connection starts in database 0: the proxy selects the client's.
            databaseSelected = policy.homeDatabase == 0
        }
        return .relink(out, mirror: mirror, to: target)
    }

    /// An AUTH answered on a shared connection: it holds, and the client keeps that connection's
    /// login; or it failed, and a client that came for it goes back to the connection of its old login.
    mutating func sharedLogin(succeeded: Bool) {
        guard case .shared(let current) = link else { return }
        if succeeded {
            login = current
        } else if current != login {
            move = .relink(.shared(login: login))
        }
    }

    /// The result of reading a shared connection's bytes for one client.
    struct SharedRead {
        var action: Action
        /// Bytes of the chunk that were this client's replies.
        var consumed: Int
        /// Replies that ended in them.
        var replies: Int
    }

    /// Bytes from a shared connection, of which at most `limit` replies are this client's: they are
    /// read as from a connection of its own, and the rest is left for the clients behind it.
    mutating func sharedRead(_ chunk: ByteBuffer, nowMs: Int64, limit: Int) -> SharedRead {
        guard phase != .closed else { return skipOrphans(chunk, limit: limit) }
        let (action, consumed, replies) = read(chunk, nowMs: nowMs, limit: limit)
        return SharedRead(action: action, consumed: consumed, replies: replies)
    }

    /// A client that went away: its replies still in flight are passed over.
    private mutating func skipOrphans(_ chunk: ByteBuffer, limit: Int) -> SharedRead {
        var pos = 0
        var replies = 0
        let wanted = min(limit, orphans)
        chunk.withUnsafeReadableBytes { raw in
            while replies < wanted && pos < raw.count {
                do {
                    // nil: the reply goes on in the next chunk.
                    guard let found = try scanner.next(raw, from: pos) else {
                        pos = raw.count
                        return
                    }
                    pos = found.end
                    replies += 1
                } catch {
                    primaryBroken = true
                    pos = raw.count
                    return
                }
            }
        }
        orphans -= replies
        return SharedRead(action: .none, consumed: pos, replies: replies)
    }
}
