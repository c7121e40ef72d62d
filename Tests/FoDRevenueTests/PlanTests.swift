import FoDCore
import FoDRevenue
import FoDTestSupport
import Foundation
import Testing

/// Commission plans with versions: each event priced by the version in force at its instant.
@Suite("Plans with versions")
struct PlanTests {
    /// 3 % until 2026-11-15, then 2 %; the model `none` from 2026-12-01.
    static let planFile = """
    {"plan": "network", "versions": [
      {"version": "2026-a", "effective_from": "2026-01-01T00:00:00Z", "clawback_days": 14,
       "rules": [{"id": "all", "share_bps": 300}], "tiers": [{"min_activations": 2, "bonus_bps": 100}]},
      {"version": "2026-b", "effective_from": "2026-11-15T00:00:00Z", "clawback_days": 14,
       "rules": [{"id": "all", "share_bps": 200}], "tiers": [{"min_activations": 2, "bonus_bps": 50}]},
      {"version": "2027-dealer-model", "effective_from": "2026-12-01T00:00:00Z", "model": "none", "clawback_days": 0,
       "rules": [{"id": "all", "share_bps": 200}]}
    ]}
    """

    static let events = ReportRun.header + """
    E1,2026-11-10T10:00:00Z,activation,,WVWZZZ1KZAW394821,NAV_PLUS,P1Y,dealer,DE-10001,DE,EUR,11900,1900
    E2,2026-11-14T23:59:59Z,activation,,WVWZZZ1KZAW394822,NAV_PLUS,P1Y,dealer,DE-10001,DE,EUR,11900,1900
    E3,2026-11-15T00:00:00Z,activation,,WVWZZZ1KZAW394823,NAV_PLUS,P1Y,dealer,DE-10001,DE,EUR,11900,1900
    E4,2026-11-20T00:00:00Z,refund,E1,WVWZZZ1KZAW394821,NAV_PLUS,P1Y,dealer,DE-10001,DE,EUR,,
    E5,2026-12-02T00:00:00Z,activation,,WVWZZZ1KZAW394824,NAV_PLUS,P1Y,dealer,DE-10001,DE,EUR,11900,1900

    """

    static func run(_ plan: Plan, period: String) throws -> ReportRun.Output {
        var rejects: [RejectedRow] = []
        let builder = ReportBuilder(plan: plan, period: try ReportPeriod(period)) { rejects.append($0) }
        var source = MemoryByteSource(Array(events.utf8))
        try CSVEventReader.read(&source, into: builder)
        return ReportRun.Output(report: try builder.finish(), rejects: rejects)
    }

    @Test("a step-down on the 15th: events before are priced by the old version, from it by the new; tiers by the version in force at the month's start; a clawback by its activation's version")
    func stepDown() throws {
        let plan = try Plan(json: Self.planFile)
        let output = try Self.run(plan, period: "2026-11")
        let lines = try output.report.lines.collect()
        let byEvent = Dictionary(lines.map { ($0.eventID + "/" + $0.kind.rawValue, $0) }, uniquingKeysWith: { a, _ in a })
        // 100.00 net each; November's tier (3 activations ≥ 2) is the month-start version's: +100 bps.
        #expect(byEvent["E1/activation"]?.planVersion == "2026-a" && byEvent["E1/activation"]?.rateBps == 400)
        #expect(byEvent["E2/activation"]?.planVersion == "2026-a" && byEvent["E2/activation"]?.share == 400)
        #expect(byEvent["E3/activation"]?.planVersion == "2026-b" && byEvent["E3/activation"]?.rateBps == 300 && byEvent["E3/activation"]?.share == 300)
        #expect(byEvent["E4/clawback"]?.planVersion == "2026-a" && byEvent["E4/clawback"]?.share == -400, "the clawback reverses what its activation earned")
        #expect(lines.allSatisfy { $0.plan == "network" })
        #expect(output.report.rulesVersion == "2026-a+2026-b")
        let statement = try #require(output.report.statements.first)
        #expect(statement.share == 1_100 && statement.clawback == 400)
        // lines.csv names plan and version on every row.
        let csv = output.lines.split(separator: "\n")
        #expect(csv[0].hasSuffix(",plan,plan_version"))
        #expect(csv.dropFirst().allSatisfy { $0.hasSuffix(",network,2026-a") || $0.hasSuffix(",network,2026-b") })
    }

    @Test("model none pays nothing from its date")
    func modelNone() throws {
        let output = try Self.run(try Plan(json: Self.planFile), period: "2026-12")
        let lines = try output.report.lines.collect()
        #expect(lines.count == 1 && lines[0].share == 0 && lines[0].planVersion == "2027-dealer-model" && lines[0].ruleID == "none")
    }

    @Test("the same events and plan give byte-identical files; a one-version plan gives what its rules file gives")
    func deterministic() throws {
        let plan = try Plan(json: Self.planFile)
        let a = try Self.run(plan, period: "2026-11"), b = try Self.run(plan, period: "2026-11")
        #expect(a.lines == b.lines && a.statements == b.statements)
        let rules = ReportRun.fixtureRules
        let single = try Plan(id: "rules", versions: [PlanVersion(effectiveFrom: Int64.min, model: .agency, rules: rules)])
        var rejects: [RejectedRow] = []
        let builder = ReportBuilder(plan: single, period: try ReportPeriod("2026-11")) { rejects.append($0) }
        var source = MemoryByteSource(Array(try String(contentsOf: TestPaths.file("fixtures/revenue/events.csv"), encoding: .utf8).utf8))
        try CSVEventReader.read(&source, into: builder)
        let viaPlan = ReportRun.Output(report: try builder.finish(), rejects: rejects)
        let viaRules = try ReportRun.run(csv: try String(contentsOf: TestPaths.file("fixtures/revenue/events.csv"), encoding: .utf8), rules: rules, period: "2026-11")
        #expect(viaPlan.lines == viaRules.lines && viaPlan.statements == viaRules.statements)
    }

    @Test("bad plan files are refused: a rate over 100 %, two versions at one instant, no effective_from, an unknown model")
    func refused() {
        let over = Self.planFile.replacingOccurrences(of: "\"share_bps\": 300", with: "\"share_bps\": 10001")
        let twice = Self.planFile.replacingOccurrences(of: "2026-11-15T00:00:00Z", with: "2026-01-01T00:00:00Z")
        let missing = Self.planFile.replacingOccurrences(of: "\"effective_from\": \"2026-11-15T00:00:00Z\", ", with: "")
        let model = Self.planFile.replacingOccurrences(of: "\"none\"", with: "\"barter\"")
        for text in [over, twice, missing, model] {
            #expect(text != Self.planFile)
            #expect(throws: RevenueError.self) { try Plan(json: text) }
        }
    }
}
