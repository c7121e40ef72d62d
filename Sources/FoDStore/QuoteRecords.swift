import FoDCore
import FoDEntitlements
import FoDRevenue

/// A quote: a basket for one vehicle, priced when it is made and locked until it expires, that
/// any touchpoint may open (by id, or by its short code) and accept (docs/journeys.md).
public struct StoredQuote: Sendable, Hashable {
    /// Where a quote stands.
    public enum Status: String, Sendable, Hashable, CaseIterable {
        case open, accepted, expired, cancelled
    }

    /// One item: what is booked on acceptance, at the price locked when the quote was made.
    public struct Item: Sendable, Hashable {
        public let feature: FeatureCode
        public let term: Term
        /// An extension of what the vehicle has of the feature (as `extend` on an activation).
        public let extend: Bool
        /// The gross price locked, VAT included.
        public let gross: Money
        public let vat: BasisPoints
        /// The campaign whose price it is (`nil`: the list price).
        public let campaign: String?

        public init(feature: FeatureCode, term: Term, extend: Bool, gross: Money, vat: BasisPoints, campaign: String?) {
            self.feature = feature
            self.term = term
            self.extend = extend
            self.gross = gross
            self.vat = vat
            self.campaign = campaign
        }
    }

    public let id: String
    /// The short code a customer shows at any touchpoint (``QuoteCode``, stored without dashes).
    public let code: String
    public let vin: VIN
    public let market: Market
    /// The touchpoint it was made at: `app`, `web`, `vehicle` or `dealer`.
    public let channel: String
    /// The site it was made at (a dealer key), and the salesperson the key names.
    public let dealer: DealerID?
    public let salesperson: SalespersonID?
    /// The site the customer chose to be credited (`nil`: none chosen).
    public let preferredDealer: DealerID?
    /// The catalog version its prices come from.
    public let catalogVersion: String
    public let createdAt: Int64
    public let expiresAt: Int64
    /// Who made it (the audit log's actor).
    public let createdBy: String
    public let items: [Item]
    /// As stored; an open quote past ``expiresAt`` is ``status(at:)`` expired before the sweep marks it.
    public let storedStatus: Status
    /// When it was accepted, cancelled or expired, and by whom.
    public let closedAt: Int64?
    public let closedBy: String?
    /// On acceptance: the site credited and why.
    public let creditedDealer: DealerID?
    public let attribution: Attribution?

    public init(id: String, code: String, vin: VIN, market: Market, channel: String, dealer: DealerID?, salesperson: SalespersonID?,
                preferredDealer: DealerID?, catalogVersion: String, createdAt: Int64, expiresAt: Int64, createdBy: String, items: [Item],
                storedStatus: Status = .open, closedAt: Int64? = nil, closedBy: String? = nil, creditedDealer: DealerID? = nil,
                attribution: Attribution? = nil) {
        self.id = id
        self.code = code
        self.vin = vin
        self.market = market
        self.channel = channel
        self.dealer = dealer
        self.salesperson = salesperson
        self.preferredDealer = preferredDealer
        self.catalogVersion = catalogVersion
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.createdBy = createdBy
        self.items = items
        self.storedStatus = storedStatus
        self.closedAt = closedAt
        self.closedBy = closedBy
        self.creditedDealer = creditedDealer
        self.attribution = attribution
    }

    /// The items' locked gross prices added up, in minor units (one currency: the vehicle's market).
    public var totalMinor: Int64 { items.reduce(0) { $0 + $1.gross.minor } }

    /// The status at `now`: an open quote whose validity has run out is expired.
    public func status(at now: Int64) -> Status {
        storedStatus == .open && expiresAt <= now ? .expired : storedStatus
    }

    /// Whether `site` made it or was chosen in it: such a site may read it by id.
    public func concerns(_ site: DealerID) -> Bool {
        dealer == site || preferredDealer == site || creditedDealer == site
    }

    /// The refusal of an acceptance of a quote in `status` (`nil`: open).
    public static func refusal(_ status: Status, id: String) -> StoreError? {
        switch status {
        case .open: nil
        case .accepted: StoreError(.quoteAccepted, "quote \(id) was accepted already: its items are booked")
        case .expired: StoreError(.quoteExpired, "quote \(id) has expired: make a new quote (prices may have changed)")
        case .cancelled: StoreError(.quoteCancelled, "quote \(id) was cancelled")
        }
    }
}

/// What accepting a quote records beside its sales, in their transaction: the quote becomes
/// accepted only if it is still open and valid then, and only one acceptance of it succeeds.
public struct QuoteAcceptance: Sendable {
    public let quoteID: String
    /// The site credited and the reason (also on each sale).
    public let creditedDealer: DealerID
    public let attribution: Attribution

    public init(quoteID: String, creditedDealer: DealerID, attribution: Attribution) {
        self.quoteID = quoteID
        self.creditedDealer = creditedDealer
        self.attribution = attribution
    }
}
