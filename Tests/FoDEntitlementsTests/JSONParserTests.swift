import FoDEntitlements
import Testing

@Suite("Strict JSON")
struct JSONParserTests {
    @Test("valid documents parse and print back", arguments: [
        #"{"a":1,"b":[true,false,null],"c":"x\"y\\z\u00e9\ud83d\ude00","d":-0.5e+10,"e":{}}"#,
        "[]", "0", "-1", "\"\"", " {\"k\" : [ 1 , 2 ] } ",
    ])
    func valid(text: String) throws {
        let value = try JSONParser.parse(text)
        #expect(try JSONParser.parse(JSONWriter.text(value)) == value)
    }

    @Test("invalid documents are refused", arguments: [
        "", "{", "{\"a\"}", "{\"a\":}", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "1e", "+1", "NaN", "tru", "nul",
        "\"\\x\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"a\nb\"", "{} {}", "\u{feff}{}", "'a'",
        "[" + String(repeating: "[", count: 40) + String(repeating: "]", count: 41),
    ])
    func invalid(text: String) {
        #expect(throws: EntitlementError(.jsonMalformed, "")) { try JSONParser.parse(text) }
    }

    @Test("duplicate member names are refused, also when spelled with escapes")
    func duplicates() {
        #expect(throws: EntitlementError(.jsonDuplicateMember, "")) { try JSONParser.parse(#"{"a":1,"a":2}"#) }
        #expect(throws: EntitlementError(.jsonDuplicateMember, "")) { try JSONParser.parse(#"{"a":1,"\u0061":2}"#) }
        #expect(throws: EntitlementError(.jsonDuplicateMember, "")) { try JSONParser.parse(#"{"x":{"b":1,"b":1}}"#) }
    }

    @Test("invalid UTF-8 inside a string is refused")
    func invalidUTF8() {
        #expect(throws: EntitlementError(.jsonMalformed, "")) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
        #expect(throws: EntitlementError(.jsonMalformed, "")) { try JSONParser.parse([0x22, 0xED, 0xA0, 0x80, 0x22]) }
    }

    @Test("integers: exact Int64 or nothing")
    func integers() throws {
        #expect(try JSONParser.parse("9223372036854775807").int64 == Int64.max)
        #expect(try JSONParser.parse("9223372036854775808").int64 == nil)
        #expect(try JSONParser.parse("1e3").int64 == nil)
        #expect(try JSONParser.parse("1.0").int64 == nil)
    }

    @Test("the writer escapes control characters and quotes")
    func writer() throws {
        let text = JSONWriter.text(.string("a\"b\\c\n\u{01}é"))
        #expect(text == #""a\"b\\c\n\u0001é""#)
        #expect(try JSONParser.parse(text) == .string("a\"b\\c\n\u{01}é"))
    }
}
