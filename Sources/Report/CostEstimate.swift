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
    /// The price of an estimated month, everything below added up; nil when over the plan's quota.
    public var monthlyCost: Double?
    /// Its parts: commands (per command plans; the writes billed again in each read region),
    /// the fixed price (with each read region's share), storage and bandwidth beyond what is included.
    public var commandsCost: Double = 0
    public var fixedCost: Double = 0
    public var storageCost: Double = 0
    public var bandwidthCost: Double = 0
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
    /// Of them, what Upstash would bill (`UpstashBilling`: free commands out, script calls in).
    public var billedCalls: Int
    /// Of them, writes (a global database bills each write once per region).
    public var writeCalls: Int
    /// The window the rates come from: the server's uptime.
    public var uptimeSeconds: Int
    /// True when that window is under a day: the month is extrapolated from very little.
    public var shortWindow: Bool
    /// Billed calls per second over the uptime.
    public var commandsPerSecond: Double
    /// Billed commands in a 30-day month at that rate.
    public var monthlyCommands: Double
    /// Writes in a 30-day month.
    public var monthlyWrites: Double
    /// Network traffic in a 30-day month, at the server's rate, in GB.
    public var monthlyBandwidthGB: Double
    /// Storage, taken as `used_memory`, in GB.
    public var storageGB: Double
    /// Read regions of a global database priced in.
    public var readRegions: Int
    /// What the prices rest on, in words.
    public var assumptions: [String]
    /// Every plan, smallest first.
    public var plans: [PlanFit]
    /// The id of the cheapest plan that fits on every count; nil when none does.
    public var cheapestFit: String?
    public var migration: MigrationEstimate

    /// A window shorter than this is flagged: a day of traffic is the least a month is extrapolated from.
    public static let shortWindowSeconds = 86_400

    /// Prices the observed load on every plan and sizes the copy for `plan`.
    static func estimate(
        facts: ServerFacts, largestRecordBytes: Int, migrationCommands: Int, migrationBytes: Int, plan: UpstashPlan,
        plans: [UpstashPlan] = UpstashPlan.all, readRegions: Int = 0
    ) -> CostEstimate {
        let billed = facts.billedCalls
        // INFO's uptime is whole seconds: a server up for less than one has served its calls in one
        let window = Double(max(1, facts.uptimeSeconds))
        let month = 30.0 * 86_400
        let rate = Double(billed) / window
        let monthly = rate * month
        let monthlyWrites = Double(facts.writeCalls) / window * month
        let gb = 1024.0 * 1024 * 1024
        let bandwidthGB = Double(facts.networkBytes) / window * month / gb
        let storageGB = Double(facts.usedMemoryBytes) / gb
        let regions = max(0, readRegions)
        var fits = plans.map { p in
            // each read region bills the writes once more
            let commands = monthly + monthlyWrites * Double(regions)
            var fit = PlanFit(
                plan: p.id, name: p.name, storageBytes: p.storageBytes,
                storageUsed: p.storageBytes.map { Double(facts.usedMemoryBytes) / Double($0) },
                fitsStorage: p.storageBytes.map { facts.usedMemoryBytes <= $0 } ?? true,
                fitsRecords: largestRecordBytes <= p.maxRecordBytes,
                fitsCommands: p.monthlyCommandLimit.map { commands <= Double($0) } ?? true, monthlyCost: nil, fits: false)
            switch p.pricing {
            case .free: break
            case .fixed(let dollars): fit.fixedCost = dollars * (1 + UpstashPricing.fixedPlanSharePerReadRegion * Double(regions))
            case .perCommand(let per100K):
                fit.commandsCost = commands / 100_000 * per100K
                fit.storageCost = max(0, storageGB - UpstashPricing.includedStorageGB) * UpstashPricing.storageDollarsPerGBMonth
                fit.bandwidthCost = max(0, bandwidthGB - UpstashPricing.includedBandwidthGB) * UpstashPricing.bandwidthDollarsPerGB
            }
            if fit.fitsCommands { fit.monthlyCost = fit.commandsCost + fit.fixedCost + fit.storageCost + fit.bandwidthCost }
            return fit
        }
        for i in fits.indices { fits[i].fits = fits[i].fitsStorage && fits[i].fitsRecords && fits[i].fitsCommands }
        let cheapest = fits.filter(\.fits).min { ($0.monthlyCost ?? .infinity) < ($1.monthlyCost ?? .infinity) }
        let byCommands = (migrationCommands + MigrationEstimate.commandsPerRequest - 1) / MigrationEstimate.commandsPerRequest
        let byBytes = (migrationBytes + plan.maxRequestBytes - 1) / plan.maxRequestBytes
        let migration = MigrationEstimate(
            plan: plan.id, commands: migrationCommands, requests: max(byCommands, byBytes), bytes: migrationBytes,
            seconds: Double(migrationCommands) / Double(plan.commandsPerSecond), commandsPerSecond: plan.commandsPerSecond)
        var assumptions = [
            "the month repeats the \(Self.describe(seconds: facts.uptimeSeconds)) of traffic INFO commandstats has counted since the server started",
            "a script is billed as its call plus every command it runs; AUTH, HELLO, SELECT, COMMAND, CONFIG, INFO, PING, RESET and QUIT are free",
            "storage is the server's used_memory; bandwidth is its network traffic (REST adds HTTP around it)",
            "pay-as-you-go: $0.20 per 100K commands, storage $0.25/GB-month after the first GB, bandwidth $0.03/GB after 200 GB",
        ]
        if regions > 0 {
            assumptions.append(
                "a global database with \(regions) read region\(regions == 1 ? "" : "s"): each write billed once more per region, fixed plans +50% each"
            )
        }
        if facts.writeCommands.isEmpty && facts.totalCalls > 0 {
            assumptions.append("the source's COMMAND table was not readable: no call counted as a write")
        }
        return CostEstimate(
            observedCalls: facts.totalCalls, billedCalls: billed, writeCalls: facts.writeCalls, uptimeSeconds: facts.uptimeSeconds,
            shortWindow: facts.uptimeSeconds < shortWindowSeconds, commandsPerSecond: rate, monthlyCommands: monthly,
            monthlyWrites: monthlyWrites, monthlyBandwidthGB: bandwidthGB, storageGB: storageGB, readRegions: regions,
            assumptions: assumptions, plans: fits, cheapestFit: cheapest?.plan, migration: migration)
    }

    static func describe(seconds: Int) -> String {
        if seconds < 120 { return "\(seconds) s" }
        if seconds < 7200 { return "\(seconds / 60) min" }
        if seconds < 172_800 { return "\(seconds / 3600) h" }
        return "\(seconds / 86_400) days"
    }
}
