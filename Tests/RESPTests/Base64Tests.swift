import Foundation
import RESP
import Testing

@Suite("base64")
struct Base64Tests {
    @Test("every length and byte value round-trips, and matches Foundation's text", arguments: 0..<70)
    func roundTrip(_ length: Int) {
        let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ length) }
        let text = Base64.encode(bytes)
        #expect(text == Array(Data(bytes).base64EncodedString().utf8))
        #expect(Base64.encodeToString(bytes) == Data(bytes).base64EncodedString())
        #expect(Base64.decode(text) == bytes)
    }

    @Test("text that is not padded base64 is refused", arguments: ["OK", "abc", "ab=c", "a===", "=abc", "ab c", "not base64!", "YWJj\n"])
    func refused(_ text: String) {
        #expect(Base64.decode(Array(text.utf8)) == nil)
    }

    @Test("padding at the end decodes")
    func padded() {
        #expect(Base64.decode(Array("YQ==".utf8)) == Array("a".utf8))
        #expect(Base64.decode(Array("YWI=".utf8)) == Array("ab".utf8))
        #expect(Base64.decode([]) == [])
    }
}
