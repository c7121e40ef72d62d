import FoDCore
import FoDEntitlements

/// A price as the API shows it (`Price` in `docs/openapi.yaml`).
public struct PriceBody: Codable, Sendable, Hashable {
    public var term: Term
    public var market: Market
    public var currency: Currency
    public var grossMinor: Int64
    public var vatBps: Int64
    /// The campaign whose price this is; `null`: the list price.
    @Nullable public var campaign: String?

    enum CodingKeys: String, CodingKey {
        case term, market, currency
        case grossMinor = "gross_minor"
        case vatBps = "vat_bps"
        case campaign
    }

    public init(_ price: Price) {
        term = price.term
        market = price.market
        currency = price.currency
        grossMinor = price.gross.minor
        vatBps = price.vat.value
        campaign = price.campaign
    }

    /// The gross amount.
    public var gross: Money { Money(minor: grossMinor, currency) }
}

/// A catalog feature (`GET /v1/features`).
public struct FeatureBody: Codable, Sendable, Hashable {
    public var code: FeatureCode
    public var name: String
    public var models: [String]
    @Nullable public var minModelYear: Int?
    public var requires: [String]
    public var excludes: [String]
    public var prices: [PriceBody]
    /// Whether its entitlements stay with the vehicle when it changes owner.
    public var transferable: Bool
    /// From when it is no longer sold (RFC 3339); `null`: not retired.
    @Nullable public var retiredAt: String?

    enum CodingKeys: String, CodingKey {
        case code, name, models
        case minModelYear = "min_model_year"
        case requires, excludes, prices, transferable
        case retiredAt = "retired_at"
    }

    public init(_ feature: CatalogFeature) {
        code = feature.code
        name = feature.name
        models = feature.models.sorted()
        minModelYear = feature.minModelYear
        requires = feature.requires
        excludes = feature.excludes
        prices = feature.prices.map(PriceBody.init)
        transferable = feature.transferable
        retiredAt = feature.retiredAt.map { Instant(unixSeconds: $0).rfc3339 }
    }
}

/// `GET /v1/features`.
public struct FeatureList: Codable, Sendable, Hashable {
    public var version: String
    public var features: [FeatureBody]

    public init(_ catalog: Catalog) {
        version = catalog.version
        features = catalog.features.map(FeatureBody.init)
    }
}

/// Why a feature cannot be booked.
public struct RefusalBody: Codable, Sendable, Hashable {
    public var rule: String
    public var message: String

    public init(_ refusal: Refusal) {
        rule = refusal.rule.rawValue
        message = refusal.message
    }
}

/// A feature as offered for one vehicle.
public struct OfferBody: Codable, Sendable, Hashable {
    public var feature: FeatureCode
    public var name: String
    public var bookable: Bool
    public var prices: [PriceBody]
    @Nullable public var refusal: RefusalBody?

    public init(_ offer: Offer) {
        feature = offer.feature.code
        name = offer.feature.name
        bookable = offer.refusal == nil
        prices = offer.prices.map(PriceBody.init)
        refusal = offer.refusal.map(RefusalBody.init)
    }
}

/// `GET /v1/vehicles/{vin}/offers`.
public struct OfferList: Codable, Sendable, Hashable {
    public var vin: VIN
    public var offers: [OfferBody]

    public init(vin: VIN, offers: [Offer]) {
        self.vin = vin
        self.offers = offers.map(OfferBody.init)
    }
}
