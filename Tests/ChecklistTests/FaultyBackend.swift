import RESP

/// A real Redis behind a deliberately broken layer, the way a bad proxy or gateway would break it.
struct FaultyBackend: Backend {
    enum Fault: String, CaseIterable, Sendable {
        case ignoreExpiry, setNXAsSet, refuseScripts, loseListItems
    }

    let inner: any Backend
    let fault: Fault
    var displayName: String { "faulty(\(fault.rawValue))" }

    private static let expiryOptions: Set<String> = ["EX", "PX", "EXAT", "PXAT"]
    private static let expiryCommands: Set<String> = ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"]

    /// The command as the broken layer passes it on, or the reply it gives instead.
    enum Rewrite {
        case forward(RESPCommand)
        case fake(RESPValue)
    }

    func rewrite(_ c: RESPCommand) -> Rewrite {
        let name = c.name
        var args = c.arguments
        switch fault {
        case .ignoreExpiry:
            if Self.expiryCommands.contains(name) { return .fake(.integer(1)) }
            if name == "SET" {
                var out: [[UInt8]] = []
                var i = 0
                while i < args.count {
                    if i >= 3, Self.expiryOptions.contains(String(decoding: args[i], as: UTF8.self).uppercased()) {
                        i += 2
                        continue
                    }
                    out.append(args[i])
                    i += 1
                }
                args = out
            }
        case .setNXAsSet:
            if name == "SET" { args.removeAll { String(decoding: $0, as: UTF8.self).uppercased() == "NX" } }
        case .refuseScripts:
            if ["EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "SCRIPT", "FCALL"].contains(name) {
                return .fake(.error(Array("ERR scripts are disabled here".utf8)))
            }
        case .loseListItems:
            if (name == "LPUSH" || name == "RPUSH"), args.count > 3 {
                args = Array(args.prefix(args.count - 1))  // the last item goes missing
            } else if name == "LPUSH", args.count == 3, args[2].last.map({ $0 % 5 == 0 }) == true {
                return .fake(.integer(1))  // and one job in five vanishes
            }
        }
        return .forward(RESPCommand(arguments: args))
    }

    func send(batch commands: [RESPCommand]) async throws -> [RESPValue] {
        let plan = commands.map(rewrite)
        let forwarded = plan.compactMap { p -> RESPCommand? in
            if case .forward(let c) = p { return c }
            return nil
        }
        var replies = try await inner.send(batch: forwarded)[...]
        return plan.map { p in
            switch p {
            case .forward: return replies.popFirst() ?? .null
            case .fake(let fake): return fake
            }
        }
    }

    func close() async { await inner.close() }
}
