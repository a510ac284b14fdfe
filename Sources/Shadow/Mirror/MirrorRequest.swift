import RESP

/// One unit of mirror work as the session hands it over.
struct MirrorRequest {
    var unit: MirrorItem.Unit
    /// Every key the unit touches.
    var keys: [[UInt8]]
    /// The mirror's expected reply (the primary's, or the effect's).
    var expected: RESPValue?
    var isWrite: Bool
    var resp3: Bool
    var retryWhenEmpty: Bool
    /// Dual-write: the reply held until the mirror settles this token.
    var token: UInt64?
}
