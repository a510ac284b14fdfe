import RESP
import Testing

@Suite("RESP value accessors")
struct RESPValueTests {
    @Test("an error's text is not data: bytes is nil, errorText and text keep it")
    func errorIsNotBytes() {
        let error = RESPValue.error(Array("WRONGTYPE Operation against a key".utf8))
        #expect(error.bytes == nil)
        #expect(error.errorText == Array("WRONGTYPE Operation against a key".utf8))
        #expect(error.text == "WRONGTYPE Operation against a key")
    }

    @Test(
        "strings give their bytes and no error text",
        arguments: [RESPValue.simpleString(Array("OK".utf8)), .bulkString(Array("OK".utf8))])
    func stringBytes(_ value: RESPValue) {
        #expect(value.bytes == Array("OK".utf8))
        #expect(value.errorText == nil)
        #expect(value.text == "OK")
    }

    @Test("nulls, integers and arrays have no bytes", arguments: [RESPValue.null, .array(nil), .integer(1), .array([.bulk("a")])])
    func noBytes(_ value: RESPValue) {
        #expect(value.bytes == nil)
        #expect(value.errorText == nil)
    }
}
