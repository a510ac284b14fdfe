import RESP

/// The `M` operation of one script call being filled: keys written by one command each, all of one
/// kind, in the layout the script reads fastest — the hot loop of a cache's copy.
///
/// Two arguments: a header of 11 characters per key (the key's index in the call's KEYS in 4
/// digits, its value's length in 6, its expiry's length in 1; base 32, digits `0`–`O`) and the
/// values and expiries back to back. The script reads a key's header with one `string.byte` and
/// takes the key from KEYS, so the key's bytes are not sent twice and no length is parsed by
/// `tonumber`. Measured on redis-server 7.0 with callgrind (2,000 binary values of ~350 bytes,
/// two thirds expiring): 31,100 instructions a key with netstrings and a SET each, 19,800 with
/// this layout and MSET; redis-server's Lua hashes every byte of every string it makes, so what
/// is left is mostly the blob and the values themselves.
struct SimpleBatch {
    let kind: SimpleWrite.Kind
    let skip: Bool
    private(set) var count = 0
    /// Keys with an expiry: each a PEXPIREAT after the MSET.
    private(set) var expiring = 0
    private(set) var header: [UInt8] = []
    private(set) var data: [UInt8] = []
    /// True while the values are UTF-8 (the call's blob can then go in a JSON body).
    private(set) var isPlain = true
    /// What the values add to a JSON body while they are plain.
    private(set) var dataJSONBytes = 0

    static let keyIndexDigits = 4
    static let lengthDigits = 6
    /// The largest value one item can describe (32⁶ − 1 bytes), past any plan's request size.
    static let maxValueBytes = (1 << (5 * lengthDigits)) - 1
    /// The most keys one call may declare for an `M` operation to index them (32⁴ − 1).
    static let maxKeyIndex = (1 << (5 * keyIndexDigits)) - 1

    init(kind: SimpleWrite.Kind, skip: Bool) {
        self.kind = kind
        self.skip = skip
    }

    /// Adds a key whose name is `KEYS[keyIndex]` of the call; `valueJSONBytes`, what its value takes
    /// escaped in JSON without quotes, or nil when it is not UTF-8 (the caller measured it already).
    mutating func add(_ item: SimpleWrite, keyIndex: Int, valueJSONBytes: Int?) {
        let pxat: [UInt8] = item.expireAt > 0 ? Array(String(item.expireAt).utf8) : []
        Self.digits(keyIndex, Self.keyIndexDigits, into: &header)
        Self.digits(item.value.count, Self.lengthDigits, into: &header)
        header.append(48 + UInt8(pxat.count))
        data += item.value
        data += pxat
        if let valueJSONBytes {
            dataJSONBytes += valueJSONBytes + pxat.count
        } else {
            isPlain = false
        }
        count += 1
        if !pxat.isEmpty { expiring += 1 }
    }

    /// What it adds to the call's blob: raw, or as JSON while plain (its netstring heads included).
    var blobBytes: Int { header.count + data.count + 40 }
    var jsonBytes: Int { header.count + dataJSONBytes + 40 }

    /// The commands the script runs for it when it writes: one per key, or without NX one MSET per
    /// `WriteScript.elementsPerCall` arguments and a PEXPIREAT per expiring key.
    var calls: Int { Self.calls(kind: kind, skip: skip, count: count, expiring: expiring) }

    static func calls(kind: SimpleWrite.Kind, skip: Bool, count: Int, expiring: Int) -> Int {
        guard kind == .set && !skip else { return count }
        return WriteOp.slices(count * 2, step: 2) + expiring
    }

    /// The operation's arguments, in the script's order: mode, count, kind, header, data.
    func arguments(into out: inout ScriptArguments) {
        out.append(skip ? "s" : "r")
        out.append(String(count))
        out.append(kind.rawValue)
        out.append(header, plain: true, jsonBytes: header.count)
        out.append(data, plain: isPlain, jsonBytes: dataJSONBytes)
    }

    /// What `width` digits `0` add up to, read as bytes: the script subtracts it once instead of 48 from each digit.
    static func digitsOffset(_ width: Int) -> Int {
        (0..<width).reduce(0) { n, _ in n * 32 + 48 }
    }

    /// `value` in `width` base-32 digits from `0` (48) to `O` (79): ASCII that JSON carries unescaped.
    private static func digits(_ value: Int, _ width: Int, into out: inout [UInt8]) {
        for i in stride(from: width - 1, through: 0, by: -1) {
            out.append(48 + UInt8((value >> (5 * i)) & 31))
        }
    }
}
