import FoDCore
import Foundation
import Testing

@Suite("Domain types")
struct DomainTypeTests {
    @Test("basis points are 0 to 10,000 and read as percent")
    func basisPoints() throws {
        #expect(try BasisPoints(1900).percent == "19")
        #expect(try BasisPoints(750).percent == "7.50")
        #expect(try BasisPoints(25).percent == "0.25")
        #expect(try BasisPoints(5).percent == "0.05")
        #expect(throws: CoreError(.rateInvalid, "")) { try BasisPoints(10_001) }
        #expect(throws: CoreError(.rateInvalid, "")) { try BasisPoints(-1) }
    }

    @Test("an instant formats as RFC 3339, a date and a date for people; parsing drops the fraction")
    func instants() throws {
        let instant = Instant(unixSeconds: 1_795_000_000)
        #expect(instant.rfc3339 == "2026-11-18T11:06:40Z")
        #expect(instant.date == "2026-11-18")
        #expect(instant.displayDate == "18 Nov 2026")
        #expect(try Instant(rfc3339: "2026-11-18T12:06:40.75+01:00") == instant)
        #expect(throws: CoreError(.instantInvalid, "")) { try Instant(rfc3339: "yesterday") }
        #expect(Instant(unixSeconds: -1).rfc3339 == "1969-12-31T23:59:59Z")
    }

    @Test("money is minor units with its currency; validated values are their text in JSON and validate when decoded")
    func moneyAndCodable() throws {
        let eur = try Currency("EUR")
        #expect(Money(minor: 133_900, eur).description == "1339.00 EUR")
        #expect(Money(minor: 133_900, eur).display == "1,339.00 EUR")
        #expect(Money(minor: 1200, try Currency("JPY")).decimal == "1200")
        let text = String(decoding: try JSONEncoder().encode([try Market("DE")]), as: UTF8.self)
        #expect(text == #"["DE"]"#)
        #expect(throws: CoreError(.marketInvalid, "")) { try JSONDecoder().decode([Market].self, from: Data(#"["de"]"#.utf8)) }
        #expect(throws: CoreError(.currencyUnknown, "")) { try JSONDecoder().decode([Currency].self, from: Data(#"["XXX"]"#.utf8)) }
    }
}
