import FoDCore
import Testing

@Suite("Base module")
struct FoDCoreTests {
    @Test("markup escaping turns the five special characters into references and leaves the rest")
    func markup() {
        #expect("<a href=\"x\">Tom & Jerry's</a>".markupEscaped == "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;")
        #expect("Matrix-LED · Größe ≥ 2 🚗".markupEscaped == "Matrix-LED · Größe ≥ 2 🚗")
        #expect("&amp;".markupEscaped == "&amp;amp;")
        #expect("".markupEscaped.isEmpty)
    }

    @Test("coded errors are equal by code, described as code and reason")
    func codedErrors() {
        let a = CoreError(.currencyUnknown, "one"), b = CoreError(.currencyUnknown, "two")
        #expect(a == b && a != CoreError(.marketInvalid, "one"))
        #expect(a.description == "currency_unknown: one" && a.codeName == "currency_unknown")
    }

    @Test("currencies format with their exponent; markets are two capital letters")
    func domainTypes() throws {
        #expect(try Currency("JPY").format(minor: -1200) == "-1200")
        #expect(try Currency("KWD").formatGrouped(minor: 123_456_789) == "123,456.789")
        #expect(try Market("FR").description == "FR")
        #expect(throws: CoreError(.marketInvalid, "")) { try Market("fr") }
    }
}
