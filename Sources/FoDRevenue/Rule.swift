import FoDCore
import FoDEntitlements

/// One commission rule: which activations it matches and what share of the net price it pays.
public struct Rule: Sendable, Hashable {
    /// The rule's id, unique in the file; it appears on every line it priced.
    public let id: String
    /// Constraints; `nil` matches any value.
    public let feature: FeatureCode?
    public let channel: Channel?
    public let market: Market?
    public let term: Term?
    public let dealer: DealerID?
    /// Share of the net price in basis points, 0–10000.
    public let shareBps: Int64
    /// A fixed amount added to the share, in the activation's currency's minor units.
    public let fixedMinor: Int64
    /// The most one line may earn under this rule, in minor units.
    public let capMinor: Int64?

    /// Creates a rule.
    public init(id: String, feature: FeatureCode? = nil, channel: Channel? = nil, market: Market? = nil, term: Term? = nil,
                dealer: DealerID? = nil, shareBps: Int64, fixedMinor: Int64 = 0, capMinor: Int64? = nil) {
        self.id = id
        self.feature = feature
        self.channel = channel
        self.market = market
        self.term = term
        self.dealer = dealer
        self.shareBps = shareBps
        self.fixedMinor = fixedMinor
        self.capMinor = capMinor
    }

    /// Whether the rule has no constraint, so it matches every activation.
    public var matchesEverything: Bool {
        feature == nil && channel == nil && market == nil && term == nil && dealer == nil
    }

    /// Whether the rule matches an activation with these attributes.
    public func matches(feature: FeatureCode, channel: Channel, market: Market, term: Term, dealer: DealerID?) -> Bool {
        (self.feature == nil || self.feature == feature)
            && (self.channel == nil || self.channel == channel)
            && (self.market == nil || self.market == market)
            && (self.term == nil || self.term == term)
            && (self.dealer == nil || self.dealer == dealer)
    }
}

/// A volume tier: a dealer with at least ``minActivations`` activations in a month gets
/// ``bonusBps`` added to every rule with a positive share that month.
public struct Tier: Sendable, Hashable {
    /// Activations needed in the calendar month.
    public let minActivations: Int64
    /// Basis points added to the rate.
    public let bonusBps: Int64

    /// Creates a tier.
    public init(minActivations: Int64, bonusBps: Int64) {
        self.minActivations = minActivations
        self.bonusBps = bonusBps
    }
}
