import FoDCore
import FoDRevenue
import Testing

@Suite("MinorUnits: exact arithmetic")
struct MoneyTests {
    @Test("the design's worked examples")
    func workedExamples() throws {
        #expect(try MinorUnits.allocate(1000, weights: [1, 1, 1]) == [334, 333, 333])
        // €1,339.00 gross at 19 % VAT → net 112,521 minor units.
        let rule = Rule(id: "r", shareBps: 1000)
        let allocation = try Allocation(grossMinor: 133_900, vatBps: 1900, rule: rule, tierBonusBps: 0, hasDealer: true)
        #expect(allocation.net == 112_521)
        #expect(allocation.vat == 21_379)
        #expect(allocation.share == 11_252)  // 11,252.1 → 11,252
        #expect(allocation.share + allocation.oem + allocation.vat == allocation.gross)
    }

    @Test("half to even", arguments: [
        (Int64(5), Int64(1), Int64(2), Int64(2)), (15, 1, 2, 8), (25, 1, 10, 2), (35, 1, 10, 4), (26, 1, 10, 3), (24, 1, 10, 2),
        (-5, 1, 2, -2), (-15, 1, 2, -8), (0, 7, 3, 0), (1, 1, 3, 0), (2, 1, 3, 1), (Int64.max, 1, 1, Int64.max),
    ])
    func halfEven(value: Int64, numerator: Int64, denominator: Int64, expected: Int64) throws {
        #expect(try MinorUnits.mulDivHalfEven(value, numerator, denominator) == expected)
    }

    @Test("overflow is an error, not a wrapped number")
    func overflow() {
        #expect(throws: RevenueError(.overflow, "")) { try MinorUnits.mulDivHalfEven(Int64.max, 3, 2) }
        #expect(throws: RevenueError(.overflow, "")) { try MinorUnits.add(Int64.max, 1) }
        #expect(throws: RevenueError(.overflow, "")) { try MinorUnits.subtract(Int64.min, 1) }
    }

    @Test("largest remainder: parts always sum to the whole, ties to the earlier part")
    func largestRemainder() throws {
        #expect(try MinorUnits.allocate(100, weights: [1, 1, 1]) == [34, 33, 33])
        #expect(try MinorUnits.allocate(-1000, weights: [1, 1, 1]) == [-334, -333, -333])
        #expect(try MinorUnits.allocate(7, weights: [0, 1, 1]) == [0, 4, 3])
        #expect(try MinorUnits.allocate(1, weights: [3, 3]) == [1, 0])
        var rng = SplitMix64(seed: 3)
        for _ in 0..<2_000 {
            let total = Int64(rng.next() % 1_000_000) - 500_000
            let weights = (0..<(1 + rng.next() % 6)).map { _ in Int64(rng.next() % 1000) + 1 }
            let parts = try MinorUnits.allocate(total, weights: weights)
            #expect(parts.reduce(0, +) == total)
        }
        #expect(throws: RevenueError.self) { try MinorUnits.allocate(10, weights: [0, 0]) }
        #expect(throws: RevenueError.self) { try MinorUnits.allocate(10, weights: [-1, 2]) }
    }

    @Test("allocation rules: fixed part, cap, share never above net, no dealer earns nothing, tier bonus only on paying rules")
    func allocationRules() throws {
        let nav = Rule(id: "pos-nav", shareBps: 1200, fixedMinor: 200, capMinor: 10_000)
        let a = try Allocation(grossMinor: 14_900, vatBps: 1900, rule: nav, tierBonusBps: 100, hasDealer: true)
        #expect(a.net == 12_521 && a.rateBps == 1300 && a.share == 1628 + 200)
        let capped = try Allocation(grossMinor: 1_000_000, vatBps: 0, rule: nav, tierBonusBps: 0, hasDealer: true)
        #expect(capped.share == 10_000)
        let rich = Rule(id: "rich", shareBps: 10_000, fixedMinor: 500)
        let bounded = try Allocation(grossMinor: 1000, vatBps: 0, rule: rich, tierBonusBps: 0, hasDealer: true)
        #expect(bounded.share == 1000 && bounded.oem == 0)
        let none = try Allocation(grossMinor: 1000, vatBps: 0, rule: rich, tierBonusBps: 0, hasDealer: false)
        #expect(none.share == 0 && none.oem == 1000)
        let trial = try Allocation(grossMinor: 0, vatBps: 1900, rule: Rule(id: "t", shareBps: 0), tierBonusBps: 250, hasDealer: true)
        #expect(trial.rateBps == 0 && trial.share == 0)
        #expect(throws: RevenueError(.vatInvalid, "")) { try Allocation(grossMinor: 1, vatBps: 10_001, rule: rich, tierBonusBps: 0, hasDealer: true) }
        #expect(throws: RevenueError(.amountInvalid, "")) { try Allocation(grossMinor: -1, vatBps: 0, rule: rich, tierBonusBps: 0, hasDealer: true) }
    }

    @Test("currencies come from the ISO 4217 table and format with their exponent")
    func currencies() throws {
        let eur = try Currency("EUR"), jpy = try Currency("JPY"), kwd = try Currency("KWD"), clf = try Currency("CLF")
        #expect(eur.exponent == 2 && jpy.exponent == 0 && kwd.exponent == 3 && clf.exponent == 4)
        #expect(eur.format(minor: 123_456) == "1234.56")
        #expect(eur.format(minor: -5) == "-0.05")
        #expect(eur.format(minor: 0) == "0.00")
        #expect(jpy.format(minor: 1200) == "1200")
        #expect(kwd.format(minor: 1) == "0.001")
        #expect(kwd.format(minor: -12_345) == "-12.345")
        for code in ["XEU", "eur", "XAU", "XXX", "", "EURO"] {
            #expect(throws: CoreError(.currencyUnknown, "")) { try Currency(code) }
        }
        for code in ["de", "DEU", "D", "", "1A"] {
            #expect(throws: CoreError(.marketInvalid, "")) { try Market(code) }
        }
        #expect(try Market("DE").code == "DE")
    }

    @Test("RFC 3339 timestamps: offsets, fractions, and what is refused")
    func timestamps() throws {
        let base = try #require(Timestamp.parse("2026-11-03T09:15:00Z"))
        #expect(base == 1_793_697_300 * 1_000_000_000)
        #expect(Timestamp.parse("2026-11-03T10:15:00+01:00") == base)
        #expect(Timestamp.parse("2026-11-03t09:15:00z") == base)
        #expect(Timestamp.parse("2026-11-03 09:15:00Z") == base)
        #expect(Timestamp.parse("2026-11-03T09:15:00.5Z") == base + 500_000_000)
        #expect(Timestamp.parse("2026-11-03T09:15:00.123456789123Z") == base + 123_456_789)
        #expect(Timestamp.parse("2024-02-29T00:00:00Z") != nil)
        #expect(Timestamp.format(base + 120_000_000) == "2026-11-03T09:15:00.12Z")
        #expect(Timestamp.format(base) == "2026-11-03T09:15:00Z")
        for bad in ["2026-11-03", "2026-11-03T09:15:00", "2026-13-03T09:15:00Z", "2025-02-29T00:00:00Z", "2026-11-03T24:00:00Z",
                    "2026-11-03T09:15:00+0100", "2026-11-03T09:15:00.Z", "26-11-03T09:15:00Z", "2026-11-03T09:15:00Z ", "2026-13-45 25:61"] {
            #expect(Timestamp.parse(bad) == nil, "\(bad)")
        }
    }
}

/// The base module's errors keep the report's codes: a bad market is `field_invalid`, an unknown
/// currency `currency_unknown`, each named after its column.
@Suite("Market and currency in the report")
struct MarketCurrencyReportTests {
    @Test("a bad market or currency in a row is rejected with the report's code and the column's name")
    func codes() throws {
        let csv = ReportRun.header + """
        M1,2026-04-10T10:00:00Z,activation,,WVWZZZ1KZAW394821,ACC,P1M,dealer,DE-10001,DEU,EUR,2400,1900
        C1,2026-04-10T10:00:00Z,activation,,WVWZZZ1KZAW394821,ACC,P1M,dealer,DE-10001,DE,EURO,2400,1900
        OK,2026-04-10T10:00:00Z,activation,,WVWZZZ1KZAW394821,ACC,P1M,dealer,DE-10001,DE,EUR,2400,1900

        """
        let output = try ReportRun.run(csv: csv, rules: ReportRun.fixtureRules, period: "2026-04")
        #expect(output.rejects.map(\.code) == [.fieldInvalid, .currencyUnknown])
        #expect(output.rejects.first?.reason.hasPrefix("market: ") == true && output.rejects.last?.reason.hasPrefix("currency: ") == true)
        #expect(output.report.counts.used == 1)
    }
}
