import Foundation
import Interop
import Testing

@Suite struct JSONTextTests {
    @Test func escapesWhatRFC8259Requires() throws {
        let s = "a\"b\\c\nd\te\u{1}é"
        let text = JSONText.string(s)
        #expect(text == "\"a\\\"b\\\\c\\nd\\te\\u0001é\"")
        // Foundation's parser reads it back to the same string.
        let back = try JSONSerialization.jsonObject(with: Data(("[" + text + "]").utf8)) as! [String]
        #expect(back == [s])
    }
}
