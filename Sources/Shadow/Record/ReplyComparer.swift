import RESP

/// Compares the primary's and the mirror's replies to one command and says why they differ.
struct ReplyComparer: Sendable {
    var ttlToleranceMs: Int64

    /// nil when the replies agree; otherwise the class, not yet considering races.
    func classify(_ traits: CommandTraits, primary: RESPValue, mirror: RESPValue, resp3: Bool = false) -> MismatchClass? {
        if primary == mirror || (primary.isNull && mirror.isNull) || !traits.comparable { return nil }
        // RESP3 nests some replies (ZRANGE WITHSCORES pairs) where RESP2 is flat.
        if resp3, Self.flattened(primary) == Self.flattened(mirror) { return nil }
        if mirror.isError && !primary.isError { return .shadowError }
        if traits.nondeterministic { return .nondeterministic }
        if traits.orderInsensitive, sameIgnoringOrder(primary, mirror, pairs: traits.pairs) { return nil }
        if let unit = traits.ttlUnitMs, case .integer(let a) = primary, case .integer(let b) = mirror, a >= 0, b >= 0,
            abs(a - b) * unit <= max(ttlToleranceMs, unit)
        {
            return .ttlSkew
        }
        return .diff
    }

    /// Compares a transaction's EXEC replies element by element, each with its own command's traits.
    func classify(transaction traits: [CommandTraits], primary: RESPValue, mirror: RESPValue, resp3: Bool = false) -> MismatchClass? {
        if primary == mirror { return nil }
        if mirror.isError && !primary.isError { return .shadowError }
        guard let p = primary.array, let m = mirror.array, p.count == m.count, p.count == traits.count else { return .diff }
        var worst: MismatchClass? = nil
        for i in 0..<p.count {
            if let c = classify(traits[i], primary: p[i], mirror: m[i], resp3: resp3), c.severity > (worst?.severity ?? 0) { worst = c }
        }
        return worst
    }

    static func flattened(_ v: RESPValue) -> [RESPValue] {
        guard case .array(let elements?) = v else { return [v.isNull ? .null : v] }
        return elements.flatMap(flattened)
    }

    private func sameIgnoringOrder(_ a: RESPValue, _ b: RESPValue, pairs: Bool) -> Bool {
        guard let x = a.array, let y = b.array, x.count == y.count else { return false }
        let encode = { (v: RESPValue) in RESPSerializer.encode(v) }
        if pairs, x.count % 2 == 0 {
            let px = stride(from: 0, to: x.count, by: 2).map { encode(x[$0]) + encode(x[$0 + 1]) }
            let py = stride(from: 0, to: y.count, by: 2).map { encode(y[$0]) + encode(y[$0 + 1]) }
            return px.sorted(by: { $0.lexicographicallyPrecedes($1) }) == py.sorted(by: { $0.lexicographicallyPrecedes($1) })
        }
        return x.map(encode).sorted(by: { $0.lexicographicallyPrecedes($1) })
            == y.map(encode).sorted(by: { $0.lexicographicallyPrecedes($1) })
    }
}
