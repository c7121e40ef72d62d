import FoDCore
import FoDEntitlements

/// A validated rules file: ordered rules (first match wins, the last matches everything),
/// volume tiers and the clawback window.
public struct RuleSet: Sendable, Hashable {
    /// The file's version, reported with every statement.
    public let version: String
    /// Days after an activation within which a refund claws the commission back (0–28).
    public let clawbackDays: Int64
    /// The rules in order.
    public let rules: [Rule]
    /// The tiers, by ascending `minActivations`.
    public let tiers: [Tier]

    /// Creates and validates a rule set.
    /// - Throws: ``RevenueError`` `rules_invalid` naming the rule.
    public init(version: String, clawbackDays: Int64, rules: [Rule], tiers: [Tier] = []) throws {
        guard !version.isEmpty, version.utf8.count <= 64 else { throw RevenueError(.rulesInvalid, "\"version\" must be 1 to 64 characters") }
        guard (0...28).contains(clawbackDays) else {
            throw RevenueError(.rulesInvalid, "\"clawback_days\" is \(clawbackDays); it must be 0 to 28")
        }
        guard !rules.isEmpty else { throw RevenueError(.rulesInvalid, "\"rules\" is empty; at least a catch-all rule is needed") }
        var ids = Set<String>()
        for rule in rules {
            guard ids.insert(rule.id).inserted else { throw RevenueError(.rulesInvalid, "rule \"\(rule.id)\": the id is used twice") }
            guard (0...10_000).contains(rule.shareBps) else {
                throw RevenueError(.rulesInvalid, "rule \"\(rule.id)\": share_bps is \(rule.shareBps); it must be 0 to 10000")
            }
            guard rule.fixedMinor >= 0 else { throw RevenueError(.rulesInvalid, "rule \"\(rule.id)\": fixed_minor must not be negative") }
            if let cap = rule.capMinor, cap < 0 { throw RevenueError(.rulesInvalid, "rule \"\(rule.id)\": cap_minor must not be negative") }
        }
        guard rules.last!.matchesEverything else {
            throw RevenueError(.rulesInvalid, "the last rule (\"\(rules.last!.id)\") must match everything (a catch-all without constraints)")
        }
        var minimums = Set<Int64>()
        for tier in tiers {
            guard tier.minActivations >= 1 else { throw RevenueError(.rulesInvalid, "tier with min_activations \(tier.minActivations): it must be at least 1") }
            guard (0...10_000).contains(tier.bonusBps) else {
                throw RevenueError(.rulesInvalid, "tier with min_activations \(tier.minActivations): bonus_bps must be 0 to 10000")
            }
            guard minimums.insert(tier.minActivations).inserted else {
                throw RevenueError(.rulesInvalid, "two tiers have min_activations \(tier.minActivations)")
            }
        }
        self.version = version
        self.clawbackDays = clawbackDays
        self.rules = rules
        self.tiers = tiers.sorted { $0.minActivations < $1.minActivations }
    }

    /// The first rule that matches; there always is one.
    public func rule(feature: FeatureCode, channel: Channel, market: Market, term: Term, dealer: DealerID?) -> Rule {
        rules[ruleIndex(feature: feature, channel: channel, market: market, term: term, dealer: dealer)]
    }

    /// The index of the first rule that matches (the catch-all's when no other does).
    public func ruleIndex(feature: FeatureCode, channel: Channel, market: Market, term: Term, dealer: DealerID?) -> Int {
        rules.firstIndex { $0.matches(feature: feature, channel: channel, market: market, term: term, dealer: dealer) } ?? rules.count - 1
    }

    /// The bonus of the highest tier whose minimum is at most `activations`; 0 below every tier.
    public func bonusBps(activations: Int64) -> Int64 {
        tiers.last { $0.minActivations <= activations }?.bonusBps ?? 0
    }
}
