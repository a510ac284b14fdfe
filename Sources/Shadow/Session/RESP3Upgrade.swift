import RESP

/// Turns a RESP2 reply into the RESP3 reply Redis would have sent, for clients that asked for
/// RESP3 (redis-py 8 does by default) after the flip, when Upstash answers in RESP2 only.
///
/// RESP3 changes types, not data: maps for field/value replies, sets, doubles for scores, score
/// pairs nested, `_` for null. The commands whose shape changes are listed here; the table is
/// checked against a real Redis's RESP3 replies in the tests.
enum RESP3Upgrade {
    /// How one command's reply is typed in RESP3.
    enum Shape: Equatable {
        case plain
        case map
        case set
        case double
        /// An array of doubles (or nulls).
        case doubles
        /// `[[member, score], …]` from a flat `member, score, …`, scores as doubles.
        case scorePairs
        /// `[member, score]` with the score a double (ZPOPMIN without a count).
        case memberScore
        /// `[[field, value], …]` from a flat `field, value, …`.
        case pairs
        /// An array of `[longitude, latitude]` doubles (or nulls).
        case coordinates
        /// An array of maps (XINFO GROUPS, XINFO CONSUMERS).
        case maps
        /// A map from an array of `[key, value]` pairs (XREAD's streams).
        case pairsMap
    }

    /// The RESP3 shape of `argv`'s reply.
    static func shape(of argv: [[UInt8]]) -> Shape {
        let name = String(decoding: argv.first ?? [], as: UTF8.self).uppercased()
        let options = Set(argv.dropFirst().map { String(decoding: $0, as: UTF8.self).uppercased() })
        switch name {
        case "HGETALL", "CONFIG": return .map
        case "XREAD", "XREADGROUP": return .pairsMap
        case "SMEMBERS", "SINTER", "SUNION", "SDIFF": return .set
        case "SPOP": return argv.count > 2 ? .set : .plain
        case "ZSCORE", "ZINCRBY": return .double
        case "ZADD": return options.contains("INCR") ? .double : .plain
        case "ZMSCORE": return .doubles
        case "GEOPOS": return .coordinates
        case "ZRANGE", "ZREVRANGE", "ZRANGEBYSCORE", "ZREVRANGEBYSCORE", "ZUNION", "ZINTER", "ZDIFF", "ZRANDMEMBER":
            return options.contains("WITHSCORES") ? .scorePairs : .plain
        case "ZPOPMIN", "ZPOPMAX": return argv.count > 2 ? .scorePairs : .memberScore
        case "HRANDFIELD": return options.contains("WITHVALUES") ? .pairs : .plain
        case "XINFO":
            let sub = argv.count > 1 ? String(decoding: argv[1], as: UTF8.self).uppercased() : ""
            if sub == "STREAM" { return options.contains("FULL") ? .plain : .map }
            if sub == "GROUPS" || sub == "CONSUMERS" { return .maps }
            return .plain
        default: return .plain
        }
    }

    /// The RESP3 bytes of `reply` to `argv`.
    static func encode(_ reply: RESPValue, to argv: [[UInt8]], into out: inout [UInt8]) {
        encode(reply, as: shape(of: argv), into: &out)
    }

    /// The RESP3 bytes of `value` typed as `shape`; a value not of the shape's form stays as it is.
    static func encode(_ value: RESPValue, as shape: Shape, into out: inout [UInt8]) {
        if value.isNull {
            out += Array("_\r\n".utf8)
            return
        }
        switch (shape, value) {
        case (.map, .array(let e?)) where e.count % 2 == 0:
            header("%", e.count / 2, &out)
            for v in e { plain(v, &out) }
        case (.set, .array(let e?)):
            header("~", e.count, &out)
            for v in e { plain(v, &out) }
        case (.double, .bulkString(let b?)):
            double(b, &out)
        case (.doubles, .array(let e?)):
            header("*", e.count, &out)
            for v in e { encode(v, as: .double, into: &out) }
        case (.coordinates, .array(let e?)):
            header("*", e.count, &out)
            for v in e { encode(v, as: .doubles, into: &out) }
        case (.memberScore, .array(let e?)) where e.count == 2:
            header("*", 2, &out)
            plain(e[0], &out)
            encode(e[1], as: .double, into: &out)
        case (.scorePairs, .array(let e?)) where e.count % 2 == 0, (.pairs, .array(let e?)) where e.count % 2 == 0:
            header("*", e.count / 2, &out)
            for i in stride(from: 0, to: e.count, by: 2) {
                header("*", 2, &out)
                plain(e[i], &out)
                if shape == .scorePairs { encode(e[i + 1], as: .double, into: &out) } else { plain(e[i + 1], &out) }
            }
        case (.pairsMap, .array(let e?)) where e.allSatisfy({ $0.array?.count == 2 }):
            header("%", e.count, &out)
            for pair in e { for v in pair.array! { plain(v, &out) } }
        case (.maps, .array(let e?)):
            header("*", e.count, &out)
            for v in e { encode(v, as: .map, into: &out) }
        default:
            plain(value, &out)
        }
    }

    /// RESP2 types as they are, nulls as RESP3's `_`, at any depth.
    private static func plain(_ value: RESPValue, _ out: inout [UInt8]) {
        switch value {
        case .bulkString(nil), .array(nil): out += Array("_\r\n".utf8)
        case .array(let e?):
            header("*", e.count, &out)
            for v in e { plain(v, &out) }
        default: RESPSerializer.write(value, into: &out)
        }
    }

    private static func double(_ text: [UInt8], _ out: inout [UInt8]) {
        out.append(UInt8(ascii: ","))
        out += text
        out += [13, 10]
    }

    private static func header(_ kind: Character, _ count: Int, _ out: inout [UInt8]) {
        out.append(kind.asciiValue!)
        out += Array(String(count).utf8)
        out += [13, 10]
    }
}
