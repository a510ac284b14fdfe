import Foundation
import NIOCore
import RESP
import Testing

@testable import Shadow

@Suite("reply comparison, records and formats")
struct ComparisonTests {
    static let comparer = ReplyComparer(ttlToleranceMs: 1000)

    @Test(
        "classification",
        arguments: [
            (CommandTraits(), RESPValue.bulk("a"), RESPValue.bulk("a"), nil),
            (CommandTraits(), .bulk("a"), .bulk("b"), MismatchClass.diff),
            (CommandTraits(), .bulk("a"), .error(Array("ERR unknown command".utf8)), .shadowError),
            (CommandTraits(nondeterministic: true), .bulk("a"), .bulk("b"), .nondeterministic),
            (CommandTraits(ttlUnitMs: 1), .integer(99_500), .integer(99_000), .ttlSkew),
            (CommandTraits(ttlUnitMs: 1), .integer(99_500), .integer(90_000), .diff),
            (CommandTraits(ttlUnitMs: 1000), .integer(100), .integer(99), .ttlSkew),
            (CommandTraits(ttlUnitMs: 1000), .integer(-1), .integer(5), .diff),
            (CommandTraits(orderInsensitive: true), .array([.bulk("x"), .bulk("y")]), .array([.bulk("y"), .bulk("x")]), nil),
            (CommandTraits(), .null, .array(nil), nil),
            (CommandTraits(comparable: false), .integer(1), .integer(0), nil),
        ] as [(CommandTraits, RESPValue, RESPValue, MismatchClass?)])
    func classify(traits: CommandTraits, primary: RESPValue, mirror: RESPValue, expected: MismatchClass?) {
        #expect(Self.comparer.classify(traits, primary: primary, mirror: mirror) == expected)
    }

    @Test("RESP3 pairs compare equal to RESP2's flat reply")
    func resp3Nesting() {
        let resp3 = RESPValue.array([.array([.bulk("m"), .bulk("1.5")])])
        let resp2 = RESPValue.array([.bulk("m"), .bulk("1.5")])
        #expect(Self.comparer.classify(CommandTraits(), primary: resp3, mirror: resp2, resp3: true) == nil)
    }

    @Test("a write by another connection between the two executions is a race, one by the same connection is not")
    func races() {
        let tracker = KeyWriteTracker()
        let key = [Array("k".utf8)]
        let snap = tracker.executed(keys: key, connection: 1, isWrite: false)
        #expect(!tracker.raced(keys: key, connection: 1, since: snap))
        _ = tracker.executed(keys: key, connection: 2, isWrite: true)
        #expect(tracker.raced(keys: key, connection: 1, since: snap))
        let pending = tracker.executed(keys: key, connection: 1, isWrite: false)
        #expect(pending.foreignInFlight, "connection 2's write has not reached the mirror yet")
        tracker.settled(keys: key)
        #expect(!tracker.executed(keys: key, connection: 1, isWrite: false).foreignInFlight)
    }

    @Test("one connection's burst of writes does not hide another's write in between")
    func burstDoesNotHideRace() {
        let tracker = KeyWriteTracker()
        let key = [Array("counter".utf8)]
        let snap = tracker.executed(keys: key, connection: 1, isWrite: true)
        tracker.settled(keys: key)
        _ = tracker.executed(keys: key, connection: 2, isWrite: true)
        for _ in 0..<10 { _ = tracker.executed(keys: key, connection: 1, isWrite: true) }
        #expect(tracker.raced(keys: key, connection: 1, since: snap))
    }

    @Test(
        "another connection's write seen shortly before is a race (two event loops read the primary in their own order), one long before is not"
    )
    func raceWindow() {
        let tracker = KeyWriteTracker(window: .milliseconds(50))
        let key = [Array("total".utf8)]
        let now = NIODeadline.now()
        _ = tracker.executed(keys: key, connection: 2, isWrite: true, at: now - .seconds(2))
        tracker.settled(keys: key)
        let alone = tracker.executed(keys: key, connection: 1, isWrite: true, at: now - .seconds(1))
        tracker.settled(keys: key)
        #expect(!tracker.raced(keys: key, connection: 1, since: alone), "connection 2 wrote a second before")
        _ = tracker.executed(keys: key, connection: 2, isWrite: true, at: now - .milliseconds(10))
        tracker.settled(keys: key)
        let mine = tracker.executed(keys: key, connection: 1, isWrite: true, at: now)
        #expect(!mine.foreignInFlight)
        #expect(tracker.raced(keys: key, connection: 1, since: mine), "connection 2 wrote 10 ms before, already mirrored")
    }

    @Test("script digests match Redis's")
    func sha1() {
        #expect(String(decoding: ScriptSHA.hex(Array("return 1".utf8)), as: UTF8.self) == "e0e1f9fabfc9d4800c877a703b823ac0578ff8db")
        #expect(String(decoding: ScriptSHA.hex([]), as: UTF8.self) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        let long = String(repeating: "redis.call(\"SET\", KEYS[1], ARGV[1]) ", count: 40)
        #expect(String(decoding: ScriptSHA.hex(Array(long.utf8)), as: UTF8.self) == "adef48736331e34e4ebb5b124fb3af05b61b4f26")
    }

    @Test("keys file lines round-trip, binary keys as b64:")
    func keyFormat() {
        for key in [Array("user:1".utf8), [0, 10, 255], Array("b64:looks-encoded".utf8)] {
            #expect(parseDisplayKey(Substring(displayKey(key))) == key)
        }
        #expect(displayKey([0, 10, 255]).hasPrefix("b64:"))
    }

    @Test("mismatch records are valid JSON and redact values unless asked")
    func records() throws {
        let hidden = ReplyRendering(showValues: false)
        let shown = ReplyRendering(showValues: true)
        #expect(!hidden.render(.bulk("s3cret")).contains("s3cret"))
        #expect(shown.render(.bulk("s3cret")).contains("s3cret"))
        let unknown = RESPValue.error(Array("ERR unknown command 's3cret', with args beginning with: 'more'".utf8))
        #expect(hidden.render(unknown) == "-ERR unknown command <42 bytes redacted>")
        #expect(shown.render(unknown).contains("s3cret"))
        let record = MismatchRecord(
            time: Date(timeIntervalSince1970: 0), connection: 3, command: "GET", keys: [Array("a\"b".utf8), [1, 2]],
            primary: hidden.render(.bulk("x")), mirror: "-ERR \"quoted\"\n", mismatchClass: .diff, lagMs: 4)
        let object = try JSONSerialization.jsonObject(with: Data(record.jsonLine().utf8)) as? [String: Any]
        #expect(object?["keys"] as? [String] == ["a\"b", "b64:AQI="])
        #expect(object?["class"] as? String == "diff")
        #expect(object?["connection"] as? Int == 3)
        #expect(object?["command"] as? String == "GET")
        #expect(object?["primary"] as? String == hidden.render(.bulk("x")))
        #expect(object?["shadow"] as? String == "-ERR \"quoted\"\n")
        #expect(object?["lag_ms"] as? Int == 4)
        #expect(record.jsonLine().hasSuffix("}\n"))
        #expect(object?.count == 8)
        #expect(object?["time"] as? String == "1970-01-01T00:00:00.000Z")
        for (seconds, text) in [
            (1_796_164_302.5, "2026-12-01T22:31:42.500Z"), (1_709_528_767.25, "2024-03-04T05:06:07.250Z"),
            (4_102_444_799.0, "2099-12-31T23:59:59.000Z"),
        ] {
            #expect(String(decoding: MismatchRecord.timestamp(Date(timeIntervalSince1970: seconds)), as: UTF8.self) == text)
        }
    }
}
