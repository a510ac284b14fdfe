/// One Upstash Redis plan: its limits and its price, as documented (2026).
public struct UpstashPlan: Sendable, Hashable, Identifiable {
    /// How the plan is billed.
    public enum Pricing: Sendable, Hashable {
        /// Billed per command: dollars per 100,000 commands.
        case perCommand(dollarsPer100K: Double)
        /// A fixed monthly price, commands unlimited.
        case fixed(dollarsPerMonth: Double)
        /// No charge, within a monthly command quota.
        case free
    }

    /// The name used on the command line: `free`, `payg`, `fixed-1gb`, …
    public let id: String
    /// The name Upstash gives it.
    public let name: String
    /// The largest HTTP request body accepted.
    public let maxRequestBytes: Int
    /// The largest single record (a value, or a whole collection).
    public let maxRecordBytes: Int
    /// Commands per second before requests are throttled.
    public let commandsPerSecond: Int
    /// Data size the plan holds; nil when not capped by the plan.
    public let storageBytes: Int?
    /// Commands a month the plan allows; nil when unlimited.
    public let monthlyCommandLimit: Int?
    public let pricing: Pricing

    /// The price of a month with this many commands (storage not included); nil when over the plan's quota.
    public func monthlyCost(commands: Double) -> Double? {
        if let limit = monthlyCommandLimit, commands > Double(limit) { return nil }
        switch pricing {
        case .free: return 0
        case .fixed(let dollars): return dollars
        case .perCommand(let per100K): return commands / 100_000 * per100K
        }
    }
}

extension UpstashPlan {
    private static let mb = 1024 * 1024
    private static let gb = 1024 * 1024 * 1024

    /// Every plan, smallest first. Fixed prices are the list prices used in Upshift's material;
    /// check upstash.com/pricing before quoting them.
    public static let all: [UpstashPlan] = [
        UpstashPlan(
            id: "free", name: "Free", maxRequestBytes: 10 * mb, maxRecordBytes: 100 * mb, commandsPerSecond: 10_000,
            storageBytes: 256 * mb, monthlyCommandLimit: 500_000, pricing: .free),
        UpstashPlan(
            id: "payg", name: "Pay as you go", maxRequestBytes: 10 * mb, maxRecordBytes: 100 * mb, commandsPerSecond: 10_000,
            storageBytes: 100 * gb, monthlyCommandLimit: nil, pricing: .perCommand(dollarsPer100K: 0.2)),
        fixed("fixed-250mb", "Fixed 250MB", request: 10 * mb, record: 100 * mb, cps: 10_000, storage: 250 * mb, price: 10),
        fixed("fixed-1gb", "Fixed 1GB", request: 10 * mb, record: 200 * mb, cps: 10_000, storage: 1 * gb, price: 20),
        fixed("fixed-5gb", "Fixed 5GB", request: 20 * mb, record: 300 * mb, cps: 10_000, storage: 5 * gb, price: 100),
        fixed("fixed-10gb", "Fixed 10GB", request: 30 * mb, record: 400 * mb, cps: 10_000, storage: 10 * gb, price: 200),
        fixed("fixed-50gb", "Fixed 50GB", request: 50 * mb, record: 500 * mb, cps: 10_000, storage: 50 * gb, price: 400),
        fixed("fixed-100gb", "Fixed 100GB", request: 75 * mb, record: 1 * gb, cps: 16_000, storage: 100 * gb, price: 800),
        fixed("fixed-500gb", "Fixed 500GB", request: 100 * mb, record: 5 * gb, cps: 16_000, storage: 500 * gb, price: 1500),
    ]

    /// The plan with this id (`payg`, `fixed-1gb`, …).
    public static func named(_ id: String) -> UpstashPlan? {
        all.first { $0.id == id.lowercased() }
    }

    /// The default plan when none is given.
    public static let payAsYouGo = named("payg")!

    private static func fixed(_ id: String, _ name: String, request: Int, record: Int, cps: Int, storage: Int, price: Double) -> UpstashPlan
    {
        UpstashPlan(
            id: id, name: name, maxRequestBytes: request, maxRecordBytes: record, commandsPerSecond: cps,
            storageBytes: storage, monthlyCommandLimit: nil, pricing: .fixed(dollarsPerMonth: price))
    }
}
