import UpstashProfile

/// Turns what the server said and what the census saw into findings, blockers first.
enum Findings {
    struct Input {
        var facts: ServerFacts
        var census: Census
        var problems: KeyProblems
        var databaseExamples: [Int: [FindingItem]]
        var cost: CostEstimate
        var plan: UpstashPlan
    }

    /// Commands refused only over REST: over Upstash's TLS endpoint (a TCP client) they work.
    static func isRESTOnly(_ refusal: UpstashCompatibility.Refusal, command: String) -> Bool {
        switch refusal {
        case .blocking, .pubsubOverREST: return true
        case .transactionControl: return true
        default: return false
        }
    }

    static func build(_ input: Input) -> [Finding] {
        var out = commandFindings(input.facts)
        if input.cost.shortWindow {
            out.append(
                Finding(
                    id: "short-window", severity: .warning,
                    title:
                        "The command rate comes from only \(CostEstimate.describe(seconds: input.cost.uptimeSeconds)) of uptime: the monthly cost is extrapolated from that",
                    count: input.cost.uptimeSeconds, unit: "seconds", estimatedCount: nil, items: [],
                    action:
                        "Run the report again after at least a day of normal traffic (INFO commandstats counts from the server's start) before choosing a plan on price."
                ))
        }
        out += keyFindings(input)
        out += databaseFindings(input)
        out += scriptFindings(input.facts)
        out += planFindings(input)
        return out.enumerated().sorted { ($0.element.severity, $0.offset) < ($1.element.severity, $1.offset) }.map(\.element)
    }

    /// How a refused command weighs: what the app cannot do at all on Upstash is a blocker.
    static func severity(command: String, refusal: UpstashCompatibility.Refusal) -> Severity {
        switch refusal {
        case .blocking: return .blocker
        case .transactionControl: return command == "WATCH" || command == "UNWATCH" ? .blocker : .warning
        case .selectNonZero, .pubsubOverREST, .admin: return .warning
        case .connectionState, .cluster: return .info
        }
    }

    static func action(command: String, refusal: UpstashCompatibility.Refusal) -> String {
        switch refusal {
        case .blocking:
            return
                "Over REST (serverless functions, the HTTP SDKs) replace the blocking call with polling (a non-blocking pop on a timer) or a queue service: REST cannot hold a request open. An app that keeps a TCP client can keep it: blocking commands work over Upstash's TLS endpoint (rediss://default:TOKEN@HOST:6379)."
        case .transactionControl where command == "WATCH" || command == "UNWATCH":
            return
                "Over REST rewrite optimistic WATCH/EXEC transactions as one Lua script (EVAL), which Upstash runs atomically; over Upstash's TLS endpoint (rediss://, a TCP client) WATCH works as it does now."
        case .transactionControl:
            return "Send each transaction as one /multi-exec request (the SDKs' multi()/transaction) instead of MULTI … EXEC."
        case .selectNonZero:
            return
                "Upstash has only database 0: SELECT 0 is fine; data in other databases moves under a key prefix (see the database findings)."
        case .pubsubOverREST:
            return
                "Over REST subscribe with server-sent events (POST /subscribe/<channel>); over Upstash's TLS endpoint (rediss://, a TCP client) SUBSCRIBE works as is. PUBLISH works either way."
        case .connectionState:
            return "Client libraries send these on connect; over REST there is no connection state, so nothing to port."
        case .cluster:
            return
                "Upstash does not shard a database: every key of the cluster goes into one database (mind its storage and the hash tags nobody needs any more); drop cluster-mode client settings."
        case .admin:
            return "Administrative and introspection commands are not available: fine from ops tools on the old server, not from the app."
        }
    }

    static func commandFindings(_ facts: ServerFacts) -> [Finding] {
        var byCommand: [String: (UpstashCompatibility.Refusal, [CommandUsage])] = [:]
        var order: [String] = []
        for usage in facts.commands {
            let argv = usage.command.split(separator: " ").map { Array($0.utf8) }
            guard let refusal = UpstashCompatibility.refusal(for: argv) else { continue }
            let name = UpstashCompatibility.commandName(argv)
            if byCommand[name] == nil { order.append(name) }
            byCommand[name, default: (refusal, [])].1.append(usage)
        }
        return order.map { name in
            let (refusal, usages) = byCommand[name]!
            let path = isRESTOnly(refusal, command: name) ? " (over TLS, a TCP client, it works)" : ""
            return Finding(
                id: "command-" + name.lowercased(), severity: severity(command: name, refusal: refusal),
                title: "\(name) is used: \(refusal)\(path)", count: usages.reduce(0) { $0 + $1.calls }, unit: "calls", estimatedCount: nil,
                items: usages.map { FindingItem(subject: $0.command, calls: $0.calls) }, action: action(command: name, refusal: refusal))
        }
    }

    static func keyFindings(_ input: Input) -> [Finding] {
        let p = input.problems
        let plan = input.plan
        let census = input.census
        func finding(_ id: String, _ severity: Severity, _ tally: ProblemTally, _ title: String, _ action: String) -> Finding? {
            guard tally.count > 0 else { return nil }
            return Finding(
                id: id, severity: severity, title: title, count: tally.count, unit: "keys",
                estimatedCount: census.sampled ? scale(tally.count, census.extrapolationFactor) : nil, items: tally.examples,
                action: action)
        }
        let maxKey = ByteText.size(UpstashCompatibility.maxKeyBytes)
        let modules = p.moduleTypeNames.sorted().joined(separator: ", ")
        let bigger = UpstashPlan.all.first { $0.maxRecordBytes >= p.largestRecordBytes }
        return [
            finding(
                "key-too-long", .blocker, p.keyTooLong, "Keys longer than \(maxKey), the longest key Upstash stores",
                "Shorten these keys before migrating, e.g. keep a readable prefix and replace the long part with its SHA-256."),
            finding(
                "record-too-large", .blocker, p.recordTooLarge,
                "Values larger than \(ByteText.size(plan.maxRecordBytes)), the largest record on \(plan.name)",
                "Split these values across several keys"
                    + (bigger.map { ", or choose a plan whose records hold them (\($0.name): \(ByteText.size($0.maxRecordBytes)))" } ?? "")
                    + "."),
            finding(
                "module-type", .blocker, p.moduleType, "Keys of module types (\(modules)) that Upstash cannot store",
                "Convert these keys to core types (strings, hashes, sorted sets) before migrating; the copy skips them."),
            finding(
                "needs-chunking", .warning, p.needsChunking,
                "Values larger than \(ByteText.size(plan.maxRequestBytes)), the largest request on \(plan.name)",
                "The copy writes these in chunks (APPEND/SETRANGE, batches of elements), but the app cannot write them in one request on Upstash: keep values smaller."
            ),
            finding(
                "non-utf8-keys", .warning, p.nonUTF8Key, "Keys that are not valid UTF-8",
                "They migrate byte for byte; apps on Upstash's REST SDKs must keep base64 response encoding on and not decode keys as strict UTF-8 (upstash-redis for Python does)."
            ),
            finding(
                "non-utf8-values", .info, p.nonUTF8Value,
                "String values that are not valid UTF-8 (first \(KeyspaceScanner.valuePrefixBytes) bytes checked)",
                "They migrate byte for byte; apps on Upstash's REST SDKs read them as base64 and must decode them as bytes, not text."),
            census.vanishedKeys > 0
                ? Finding(
                    id: "vanished-keys", severity: .info,
                    title: "Keys listed by SCAN but gone when read (expired but still present, or deleted)",
                    count: census.vanishedKeys, unit: "keys", estimatedCount: nil, items: [],
                    action: "Nothing to do: expired keys are not copied.") : nil,
        ].compactMap { $0 }
    }

    static func databaseFindings(_ input: Input) -> [Finding] {
        input.census.databases.filter { $0.index != 0 && $0.keys > 0 }.map { db in
            Finding(
                id: "database-\(db.index)", severity: .warning, title: "Keys in database \(db.index); Upstash has database 0 only",
                count: db.keys, unit: "keys", estimatedCount: nil, items: input.databaseExamples[db.index] ?? [],
                action:
                    "Copy with `upshift migrate --db \(db.index) --key-prefix db\(db.index):` and make the app prepend `db\(db.index):` to these keys instead of SELECT \(db.index)."
            )
        }
    }

    static func scriptFindings(_ facts: ServerFacts) -> [Finding] {
        var out: [Finding] = []
        let evalCalls = facts.commands.filter { ["EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO"].contains($0.command) }
        if facts.cachedScripts > 0 || !evalCalls.isEmpty {
            out.append(
                Finding(
                    id: "lua-scripts", severity: .info, title: "Lua scripts are cached or evaluated", count: facts.cachedScripts,
                    unit: "scripts", estimatedCount: nil, items: evalCalls.map { FindingItem(subject: $0.command, calls: $0.calls) },
                    action:
                        "Upstash runs EVAL/EVALSHA. Cached scripts are not copied: clients must fall back to EVAL on NOSCRIPT (the SDKs do). Scripts must touch only keys passed in KEYS."
                ))
        }
        if !facts.functionLibraries.isEmpty {
            out.append(
                Finding(
                    id: "lua-functions", severity: .info, title: "Function libraries are loaded", count: facts.functionLibraries.count,
                    unit: "libraries", estimatedCount: nil,
                    items: facts.functionLibraries.map {
                        FindingItem(subject: "\($0.name) (\($0.engine)): " + $0.functions.joined(separator: ", "))
                    },
                    action:
                        "Upstash runs FCALL; the copy does not move functions: FUNCTION LOAD each library on Upstash before the cutover."))
        }
        return out
    }

    static func planFindings(_ input: Input) -> [Finding] {
        let cost = input.cost
        let used = input.facts.usedMemoryBytes
        var out: [Finding] = []
        let cheapest = cost.plans.first { $0.plan == cost.cheapestFit }
        let advice =
            cheapest.map {
                "the cheapest plan that fits is \($0.name)" + ($0.monthlyCost.map { " at \(ByteText.dollars($0))/month" } ?? "") + "."
            }
            ?? "no plan fits."
        if let chosen = cost.plans.first(where: { $0.plan == input.plan.id }) {
            if !chosen.fitsStorage, let storage = chosen.storageBytes {
                out.append(
                    Finding(
                        id: "memory-over-plan", severity: .blocker,
                        title: "Memory in use (\(ByteText.size(used))) exceeds \(chosen.name)'s \(ByteText.size(storage)) of storage",
                        count: used, unit: "bytes", estimatedCount: nil, items: [], action: "Choose a larger plan: " + advice))
            }
            if !chosen.fitsCommands {
                out.append(
                    Finding(
                        id: "commands-over-quota", severity: .blocker,
                        title: "About \(ByteText.count(Int(cost.monthlyCommands))) commands a month exceed \(chosen.name)'s quota",
                        count: Int(cost.monthlyCommands), unit: "commands", estimatedCount: nil, items: [],
                        action: "Choose a plan without a command quota: " + advice))
            }
        }
        out.append(
            Finding(
                id: "plan-fit", severity: cheapest == nil ? .blocker : .info,
                title: "Memory in use: \(ByteText.size(used)); \(advice)", count: used, unit: "bytes", estimatedCount: nil,
                items: cost.plans.filter(\.fits).prefix(3).map {
                    FindingItem(subject: $0.name + ($0.monthlyCost.map { ": \(ByteText.dollars($0))/month" } ?? ""))
                },
                action: cheapest == nil
                    ? "Reduce the data (expire or drop keys) or split it across several databases."
                    : "Pick a plan with headroom for growth."))
        return out
    }
}
