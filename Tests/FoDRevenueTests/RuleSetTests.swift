import FoDRevenue
import FoDTestSupport
import Foundation
import Testing

@Suite("Rules file")
struct RuleSetTests {
    static func json(rules: String, extra: String = "") -> String {
        #"{"version":"t","clawback_days":14,"rules":[\#(rules)]\#(extra)}"#
    }

    @Test("the fixture rules file loads")
    func fixture() throws {
        let rules = try RuleSet(json: String(contentsOf: TestPaths.file("fixtures/revenue/rules.json"), encoding: .utf8))
        #expect(rules.rules.map(\.id) == ["trials", "pos-nav", "pos", "online", "other"])
        #expect(rules.bonusBps(activations: 49) == 0 && rules.bonusBps(activations: 50) == 100 && rules.bonusBps(activations: 500) == 250)
        #expect(rules.clawbackDays == 15, "the longest default withdrawal (14 days, up to 15 × 24 h after the sale) claws back")
    }

    @Test("invalid files are refused with a message naming the rule", arguments: [
        (json(rules: #"{"id":"a","channel":"dealer","share_bps":100}"#), "must match everything"),
        (json(rules: #"{"id":"a","share_bps":100},{"id":"a","share_bps":100}"#), "rule \"a\": the id is used twice"),
        (json(rules: #"{"id":"a","share_bps":100,"colour":"red"}"#), "rule \"a\": unknown field \"colour\""),
        (json(rules: #"{"id":"a","share_bps":-1}"#), "rule \"a\": \"share_bps\" is -1"),
        (json(rules: #"{"id":"a","share_bps":10001}"#), "rule \"a\": share_bps is 10001"),
        (json(rules: #"{"id":"a","fixed_minor":1.5,"share_bps":1}"#), "rule \"a\": \"fixed_minor\" must be an integer"),
        (json(rules: #"{"id":"x","channel":"fax","share_bps":1},{"id":"y","share_bps":1}"#), "rule \"x\": channel \"fax\""),
        (json(rules: #"{"id":"x","feature":"nav","share_bps":1},{"id":"y","share_bps":1}"#), "rule \"x\": feature code"),
        (json(rules: ""), "\"rules\" is empty"),
        (#"{"version":"t","clawback_days":29,"rules":[{"id":"a","share_bps":1}]}"#, "clawback_days\" is 29"),
        (#"{"version":"t","rules":[{"id":"a","share_bps":1}]}"#, "\"clawback_days\" is required"),
        (json(rules: #"{"id":"a","share_bps":1}"#, extra: #","tiers":[{"min_activations":0,"bonus_bps":1}]"#), "min_activations 0"),
        (json(rules: #"{"id":"a","share_bps":1}"#, extra: #","tiers":[{"min_activations":5,"bonus_bps":1},{"min_activations":5,"bonus_bps":2}]"#), "two tiers"),
        ("{", "not valid JSON"),
    ])
    func refused(text: String, message: String) {
        do {
            _ = try RuleSet(json: text)
            Issue.record("accepted: \(text)")
        } catch let error as RevenueError {
            #expect(error.code == .rulesInvalid)
            #expect(error.reason.contains(message), "\(error.reason)")
        } catch {
            Issue.record("untyped error \(error)")
        }
    }
}
