import FoDCore

/// One catalog version: the whole catalog as in force from ``effectiveAt`` until the next version.
public struct CatalogVersion: Sendable, Hashable {
    /// The version's label (the document's `version`): what a sale records.
    public let label: String
    /// From when it is in force (Unix seconds).
    public let effectiveAt: Int64
    public let catalog: Catalog

    public init(label: String, effectiveAt: Int64, catalog: Catalog) {
        self.label = label
        self.effectiveAt = effectiveAt
        self.catalog = catalog
    }
}

/// A campaign: a price for one feature, market and term during a window, instead of the list price.
public struct Campaign: Sendable, Hashable {
    public let id: String
    public let feature: FeatureCode
    public let market: Market
    public let term: Term
    /// The gross price in the list price's currency, minor units.
    public let grossMinor: Int64
    /// The window: `from` inclusive, `to` exclusive (Unix seconds).
    public let from: Int64
    public let to: Int64

    public init(id: String, feature: FeatureCode, market: Market, term: Term, grossMinor: Int64, from: Int64, to: Int64) {
        self.id = id
        self.feature = feature
        self.market = market
        self.term = term
        self.grossMinor = grossMinor
        self.from = from
        self.to = to
    }

    /// Whether it runs at `instant`.
    public func runs(at instant: Int64) -> Bool { from <= instant && instant < to }

    /// Whether its window overlaps another's of the same feature, market and term.
    public func overlaps(_ other: Campaign) -> Bool {
        feature == other.feature && market == other.market && term == other.term && from < other.to && other.from < to
    }
}

/// The catalog over time (docs/catalog.md): versions by effective date, campaigns, retirements.
/// ``catalog(at:)`` is what can be sold at an instant and at what price.
public struct CatalogHistory: Sendable, Hashable {
    /// Oldest first (by ``CatalogVersion/effectiveAt``).
    public let versions: [CatalogVersion]
    public let campaigns: [Campaign]
    /// When each retired feature stops being sold.
    public let retirements: [FeatureCode: Int64]

    public init(versions: [CatalogVersion], campaigns: [Campaign] = [], retirements: [FeatureCode: Int64] = [:]) {
        self.versions = versions.sorted { $0.effectiveAt < $1.effectiveAt }
        self.campaigns = campaigns
        self.retirements = retirements
    }

    /// The version in force at `instant` (before the first: the first); `nil` when there is none.
    public func version(at instant: Int64) -> CatalogVersion? {
        versions.last { $0.effectiveAt <= instant } ?? versions.first
    }

    /// The instants around `instant` between which ``catalog(at:)`` is the same: the latest
    /// version, campaign or retirement boundary at or before it, and the next after it.
    public func span(around instant: Int64) -> (from: Int64, until: Int64) {
        var from = Int64.min, until = Int64.max
        func note(_ boundary: Int64) {
            if boundary <= instant { from = max(from, boundary) } else { until = min(until, boundary) }
        }
        for version in versions { note(version.effectiveAt) }
        for campaign in campaigns { note(campaign.from); note(campaign.to) }
        for retired in retirements.values { note(retired) }
        return (from, until)
    }

    /// What is sold at `instant`: the version in force, a running campaign's price in place of the
    /// list price (its currency and VAT rate the list price's), retired features marked.
    public func catalog(at instant: Int64) -> Catalog {
        guard var catalog = version(at: instant)?.catalog else { return Catalog(version: "", features: []) }
        let running = campaigns.filter { $0.runs(at: instant) }
        for index in catalog.features.indices {
            let code = catalog.features[index].code
            catalog.features[index].retiredAt = retirements[code]
            for campaign in running where campaign.feature == code {
                for p in catalog.features[index].prices.indices
                where catalog.features[index].prices[p].market == campaign.market && catalog.features[index].prices[p].term == campaign.term {
                    let list = catalog.features[index].prices[p]
                    catalog.features[index].prices[p] = Price(market: list.market, term: list.term, gross: Money(minor: campaign.grossMinor, list.currency),
                                                              vat: list.vat, campaign: campaign.id)
                }
            }
        }
        return catalog
    }
}
