import FoDCore
import FoDCrypto
import FoDRevenue
import FoDTestSupport
import Foundation
import Testing

@Suite("Monthly report")
struct ReportTests {
    static let fixture = TestPaths.file("fixtures/revenue")

    @Test("the fixture events give exactly the expected report files")
    func fixtureFiles() throws {
        let csv = try String(contentsOf: Self.fixture.appendingPathComponent("events.csv"), encoding: .utf8)
        let output = try ReportRun.run(csv: csv, rules: ReportRun.fixtureRules, period: "2026-11")
        let expected = Self.fixture.appendingPathComponent("expected")
        #expect(output.statements == (try String(contentsOf: expected.appendingPathComponent("statements.csv"), encoding: .utf8)))
        #expect(output.lines == (try String(contentsOf: expected.appendingPathComponent("lines.csv"), encoding: .utf8)))
        #expect(output.rejectsCSV == (try String(contentsOf: expected.appendingPathComponent("rejects.csv"), encoding: .utf8)))
        let sha = SHA256.hexHash(Array(csv.utf8))
        #expect(String(decoding: ReportFiles.reportJSON(output.report, inputSHA256: sha), as: UTF8.self)
                == (try String(contentsOf: expected.appendingPathComponent("report.json"), encoding: .utf8)))
        #expect(ReportHTML.render(output.report, inputSHA256: sha)
                == (try String(contentsOf: expected.appendingPathComponent("report.html"), encoding: .utf8)))
    }

    @Test("the fixture's key figures, computed here by hand")
    func fixtureFigures() throws {
        let csv = try String(contentsOf: Self.fixture.appendingPathComponent("events.csv"), encoding: .utf8)
        let output = try ReportRun.run(csv: csv, rules: ReportRun.fixtureRules, period: "2026-11")
        let byID = Dictionary((try output.report.lines.collect()).map { ($0.eventID, $0) }, uniquingKeysWith: { a, _ in a })
        // NAV_PLUS at the point of sale: 12 % of net 125.21 = 15.03 (15.0252), plus 2.00 fixed.
        #expect(byID["A2"]?.net == 12_521 && byID["A2"]?.share == 1_703 && byID["A2"]?.ruleID == "pos-nav")
        // 1,339.00 at 19 % → net 1,125.21; 10 % → 112.52.
        #expect(byID["A3"]?.net == 112_521 && byID["A3"]?.share == 11_252)
        // KWD 12.345 at 10 % = 1.2345 → half to even → 1.234.
        #expect(byID["A8"]?.share == 1_234 && byID["A8"]?.currency.code == "KWD")
        // JPY: net 24000 / 1.1 = 21818.18 → 21818; 12 % = 2618.16 → 2618, + 200.
        #expect(byID["A7"]?.share == 2_818)
        // No dealer: nothing earned. A trial: rate 0.
        #expect(byID["A6"]?.share == 0 && byID["A5"]?.rateBps == 0)
        // The refund R1 of last month's A1 (9 days later) claws back A1's share 16.72 in this month.
        #expect(byID["R1"]?.kind == .clawback && byID["R1"]?.share == -1_672 && byID["R1"]?.refersTo == "A1")
        // R2 comes 23 days after A2: a late refund, no clawback line.
        #expect(byID["R2"] == nil)
        #expect(output.report.counts.lateRefunds == 2)
        let codes = Dictionary(output.rejects.map { ($0.eventID, $0.code) }, uniquingKeysWith: { a, _ in a })
        #expect(codes["R4"] == .refundDuplicate && codes["R5"] == .refundUnknownActivation && codes["R6"] == .refundBeforeActivation)
        #expect(codes["R8"] == .refundUnknownActivation && codes["B1"] == .timestampInvalid && codes["B2"] == .currencyUnknown)
        #expect(codes["B3"] == .amountInvalid && codes["B4"] == .vatInvalid && codes["B5"] == .rowMalformed && codes["B6"] == .fieldInvalid)
        #expect(codes["A2"] == .duplicateEvent)
        let counts = output.report.counts
        #expect(counts.rowsRead == counts.used + counts.outsidePeriod + counts.rejected)
        #expect(output.rejects.first { $0.eventID == "B3" }?.line == 20)
    }

    @Test("share + oem + vat == gross on every line and in every total, on generated events")
    func invariants() throws {
        let csv = try ReportRun.generated(rows: 40_000, seed: 11)
        for period in ["2026-03", "2026-07", "2026-12"] {
            let output = try ReportRun.run(csv: csv, rules: ReportRun.fixtureRules, period: period)
            #expect(!(try output.report.lines.collect()).isEmpty)
            for line in (try output.report.lines.collect()) {
                #expect(line.share + line.oem + line.vat == line.gross, "\(line.eventID)")
                #expect(line.kind == .clawback || line.share <= line.net)
            }
            for total in output.report.totals {
                #expect(total.share - total.clawback + total.oem + total.vat == total.gross, "\(total.currency)")
                let statements = output.report.statements.filter { $0.currency == total.currency }
                #expect(statements.reduce(0) { $0 + $1.payable } == total.payable)
                #expect(statements.reduce(0) { $0 + $1.gross } == total.gross)
            }
            let counts = output.report.counts
            #expect(counts.rowsRead == 40_000)
            #expect(counts.rowsRead == counts.used + counts.outsidePeriod + counts.rejected)
        }
    }

    @Test("the statements and the book extract are the same for any order of the rows")
    func orderIndependence() throws {
        // Without duplicate event ids (the one case where file order decides which row counts).
        let csv = try ReportRun.generated(rows: 20_000, seed: 5)
        var rows = csv.split(separator: "\n", omittingEmptySubsequences: true).dropFirst().map(String.init)
        var seen = Set<String>()
        rows = rows.filter { seen.insert(String($0.prefix { $0 != "," })).inserted }
        let original = try ReportRun.run(csv: ReportRun.header + rows.joined(separator: "\n") + "\n", rules: ReportRun.fixtureRules, period: "2026-05")
        var rng = SplitMix64(seed: 99)
        for _ in 0..<3 {
            rows.shuffle(using: &rng)
            let shuffled = try ReportRun.run(csv: ReportRun.header + rows.joined(separator: "\n") + "\n", rules: ReportRun.fixtureRules, period: "2026-05")
            #expect(shuffled.statements == original.statements)
            #expect(shuffled.lines == original.lines)
            #expect(shuffled.report.counts.used == original.report.counts.used)
            #expect(Set(shuffled.rejects.map(\.eventID)) == Set(original.rejects.map(\.eventID)))
        }
    }

    @Test("the same input gives byte-identical files; the pipelined reader gives the same as the plain one")
    func deterministic() throws {
        let csv = try ReportRun.generated(rows: 30_000, seed: 8)
        let a = try ReportRun.run(csv: csv, rules: ReportRun.fixtureRules, period: "2026-09")
        let b = try ReportRun.run(csv: csv, rules: ReportRun.fixtureRules, period: "2026-09")
        let c = try ReportRun.run(csv: csv, rules: ReportRun.fixtureRules, period: "2026-09", pipelined: true)
        for other in [b, c] {
            #expect(other.statements == a.statements)
            #expect(other.lines == a.lines)
            #expect(other.rejectsCSV == a.rejectsCSV)
            #expect(ReportFiles.reportJSON(other.report, inputSHA256: "x") == ReportFiles.reportJSON(a.report, inputSHA256: "x"))
            #expect(ReportHTML.render(other.report, inputSHA256: "x") == ReportHTML.render(a.report, inputSHA256: "x"))
        }
    }

    @Test("tiers: the bonus applies to a dealer's month once it reaches the tier, to paying rules only")
    func tiers() throws {
        let rules = try RuleSet(json: #"{"version":"t","clawback_days":14,"rules":[{"id":"trial","term":"trial","share_bps":0},{"id":"all","share_bps":1000}],"tiers":[{"min_activations":3,"bonus_bps":500}]}"#)
        func row(_ id: String, _ day: Int, _ dealer: String, term: String = "P1M") -> String {
            "\(id),2026-04-\(day < 10 ? "0" : "")\(day)T10:00:00Z,activation,,WVWZZZ1KZAW394821,ACC,\(term),dealer,\(dealer),DE,EUR,1000,0"
        }
        let csv = ReportRun.header + [row("a", 1, "D1"), row("b", 2, "D1"), row("c", 3, "D1", term: "trial"), row("d", 4, "D2"), row("e", 5, "D2")].joined(separator: "\n")
        let output = try ReportRun.run(csv: csv, rules: rules, period: "2026-04")
        let d1 = try #require(output.report.statements.first { $0.dealerID == "D1" })
        let d2 = try #require(output.report.statements.first { $0.dealerID == "D2" })
        #expect(d1.tierBonusBps == 500 && d2.tierBonusBps == 0)
        #expect(d1.share == 150 + 150 + 0)  // 15 % of 1000 twice; the trial rule pays nothing, bonus or not
        #expect(d2.share == 100 + 100)
    }

    @Test("months in a time zone: an event at 23:30 UTC on the last day belongs to the next month in Berlin")
    func timeZones() throws {
        let csv = ReportRun.header + "a,2026-04-30T22:30:00Z,activation,,WVWZZZ1KZAW394821,ACC,P1M,dealer,D1,DE,EUR,1000,0\n"
        let utc = try ReportRun.run(csv: csv, rules: ReportRun.fixtureRules, period: "2026-04")
        let berlin = try ReportRun.run(csv: csv, rules: ReportRun.fixtureRules, period: "2026-05", timeZone: "Europe/Berlin")
        #expect(utc.report.counts.used == 1 && berlin.report.counts.used == 1)
        #expect(throws: RevenueError(.optionInvalid, "")) { try ReportPeriod("2026-05", timeZone: "Mars/Olympus") }
        #expect(throws: RevenueError(.optionInvalid, "")) { try ReportPeriod("2026-5") }
        #expect(throws: RevenueError(.optionInvalid, "")) { try ReportPeriod("2026-13") }
    }
}

