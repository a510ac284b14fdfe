import UpstashProfile

/// How one plan fits the source: storage, record size, monthly commands, and the price.
public struct PlanFit: Codable, Sendable, Hashable {
    /// The plan's id (`payg`, `fixed-1gb`, …).
    public var plan: String
    public var name: String
    /// The plan's storage; nil when not capped.
    public var storageBytes: Int?
    /// `used_memory` as a share of the storage (1.0 = full).
    public var storageUsed: Double?
    public var fitsStorage: Bool
    /// Every key is under the plan's largest record.
    public var fitsRecords: Bool
    /// The estimated monthly commands are within the plan's quota.
    public var fitsCommands: Bool
    /// The price of an estimated month (storage not included); nil when over the plan's quota.
    public var monthlyCost: Double?
    /// Fits on every count.
    public var fits: Bool
}

/// What the one-off copy takes on the chosen plan: the figures `migrate --dry-run` prints.
public struct MigrationEstimate: Codable, Sendable, Hashable {
    /// Commands per pipelined request.
    public static let commandsPerRequest = 1000

    public var plan: String
    /// Billed commands (`CopyCost`): one `SET … PXAT` per string, one RESTORE per collection, plus
    /// each batch's script call; bigger keys in chunks.
    public var commands: Int
    /// Pipelined requests, bounded by commands per request and the plan's request size.
    public var requests: Int
    /// Key and value bytes sent.
    public var bytes: Int
    /// At the plan's commands/s cap.
    public var seconds: Double
    public var commandsPerSecond: Int

    /// Which target path to use for the bulk copy, and why.
    public static let pathAdvice =
        "REST or RESP: the same commands and price (Upstash bills per command); RESP over TLS "
        + "(--target rediss://default:TOKEN@HOST:6379) skips HTTP and JSON per request, so it is the faster path for the bulk copy"
}

/// The source's load priced on each plan, and the copy's size and duration.
public struct CostEstimate: Codable, Sendable, Hashable {
    /// Calls counted by `INFO commandstats` since the server started.
    public var observedCalls: Int
    public var uptimeSeconds: Int
    /// Calls per second over the uptime.
    public var commandsPerSecond: Double
    /// Commands in a 30-day month at that rate.
    public var monthlyCommands: Double
    /// Every plan, smallest first.
    public var plans: [PlanFit]
    /// The id of the cheapest plan that fits on every count; nil when none does.
    public var cheapestFit: String?
    public var migration: MigrationEstimate

    /// Prices the observed load on every plan and sizes the copy for `plan`.
    static func estimate(
        facts: ServerFacts, largestRecordBytes: Int, migrationCommands: Int, migrationBytes: Int, plan: UpstashPlan,
        plans: [UpstashPlan] = UpstashPlan.all
    ) -> CostEstimate {
        let calls = facts.totalCalls
        // INFO's uptime is whole seconds: a server up for less than one has served its calls in one
        let rate = Double(calls) / Double(max(1, facts.uptimeSeconds))
        let monthly = rate * 30 * 86_400
        var fits = plans.map { p in
            let cost = p.monthlyCost(commands: monthly)
            return PlanFit(
                plan: p.id, name: p.name, storageBytes: p.storageBytes,
                storageUsed: p.storageBytes.map { Double(facts.usedMemoryBytes) / Double($0) },
                fitsStorage: p.storageBytes.map { facts.usedMemoryBytes <= $0 } ?? true,
                fitsRecords: largestRecordBytes <= p.maxRecordBytes, fitsCommands: cost != nil, monthlyCost: cost, fits: false)
        }
        for i in fits.indices { fits[i].fits = fits[i].fitsStorage && fits[i].fitsRecords && fits[i].fitsCommands }
        let cheapest = fits.filter(\.fits).min { ($0.monthlyCost ?? .infinity) < ($1.monthlyCost ?? .infinity) }
        let byCommands = (migrationCommands + MigrationEstimate.commandsPerRequest - 1) / MigrationEstimate.commandsPerRequest
        let byBytes = (migrationBytes + plan.maxRequestBytes - 1) / plan.maxRequestBytes
        let migration = MigrationEstimate(
            plan: plan.id, commands: migrationCommands, requests: max(byCommands, byBytes), bytes: migrationBytes,
            seconds: Double(migrationCommands) / Double(plan.commandsPerSecond), commandsPerSecond: plan.commandsPerSecond)
        return CostEstimate(
            observedCalls: calls, uptimeSeconds: facts.uptimeSeconds, commandsPerSecond: rate, monthlyCommands: monthly, plans: fits,
            cheapestFit: cheapest?.plan, migration: migration)
    }
}
