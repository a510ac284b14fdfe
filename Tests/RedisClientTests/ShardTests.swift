import RedisClient
import Testing

@Suite("hash slots and shards")
struct ShardTests {
    @Test(
        "slots match Redis Cluster's (CLUSTER KEYSLOT)",
        arguments: [
            ("123456789", 12739), ("foo", 12182), ("bar", 5061), ("{user1000}.following", 3443), ("{user1000}.followers", 3443),
            ("foo{}{bar}", 8363), ("foo{{bar}}zap", 4015), ("foo{bar}{zap}", 5061), ("", 0),
        ])
    func slots(_ key: String, _ slot: Int) {
        #expect(HashSlot.of(Array(key.utf8)) == slot)
    }

    @Test("i/n parses 0-based; anything else is refused", arguments: ["0/1", "1/2", "3/4", "16383/16384"])
    func parse(_ text: String) throws {
        let shard = try #require(Shard(text))
        #expect(shard.description == text)
    }

    @Test("bad shard specs are refused", arguments: ["2/2", "-1/2", "1", "a/b", "0/0", "1/", "0/16385", "1/2/3"])
    func bad(_ text: String) {
        #expect(Shard(text) == nil)
    }

    @Test("n shards' slot ranges tile 0..<16384 without overlap, and each key has exactly one owner", arguments: [1, 2, 3, 7, 16384])
    func tiling(_ n: Int) {
        let shards = (0..<n).map { Shard(index: $0, count: n)! }
        #expect(shards.first?.slots.lowerBound == 0)
        #expect(shards.last?.slots.upperBound == HashSlot.count)
        for (a, b) in zip(shards, shards.dropFirst()) { #expect(a.slots.upperBound == b.slots.lowerBound) }
        for i in 0..<2000 {
            let key = Array("key:\(i)".utf8)
            #expect(shards.filter { $0.contains(key) }.count == 1)
        }
    }
}
