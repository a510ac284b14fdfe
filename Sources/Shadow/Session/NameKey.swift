/// A command name of up to 16 bytes, lower-cased and packed, so a lookup allocates nothing.
struct NameKey: Hashable {
    var a: UInt64 = 0
    var b: UInt64 = 0
    var count: UInt8

    init?(_ name: UnsafeRawBufferPointer) {
        guard name.count <= 16 else { return nil }
        count = UInt8(name.count)
        for (i, c) in name.enumerated() {
            let l = UInt64((c >= 65 && c <= 90) ? c + 32 : c)
            if i < 8 { a |= l << (UInt64(i) * 8) } else { b |= l << (UInt64(i - 8) * 8) }
        }
    }
}
