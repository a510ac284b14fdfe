/// The published prices beyond each plan's own (Upstash pricing data, 2026-05): what a
/// pay-as-you-go month adds for storage and bandwidth, and what global read regions cost.
public enum UpstashPricing {
    /// Pay-as-you-go storage: the first GB is included, then this much per GB-month.
    public static let storageDollarsPerGBMonth = 0.25
    public static let includedStorageGB = 1.0
    /// Pay-as-you-go bandwidth: the first 200 GB a month are free, then this much per GB.
    public static let bandwidthDollarsPerGB = 0.03
    public static let includedBandwidthGB = 200.0
    /// A global database bills each write once per region; on a fixed plan each read region
    /// adds this share of the plan's price.
    public static let fixedPlanSharePerReadRegion = 0.5
}
