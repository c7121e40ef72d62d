import FoDCore

/// What can be booked: features with their eligibility rules and prices per market and term.
public struct Catalog: Sendable, Hashable {
    /// The catalog's version.
    public var version: String
    /// Features by code, in catalog order.
    public var features: [CatalogFeature]
    /// Human names of equipment codes, for refusal messages ("7UG" → "MMI Plus hardware").
    public var equipmentNames: [String: String]

    /// Creates a catalog.
    public init(version: String, features: [CatalogFeature], equipmentNames: [String: String] = [:]) {
        self.version = version
        self.features = features
        self.equipmentNames = equipmentNames
    }

    /// The feature with this code.
    public func feature(_ code: FeatureCode) -> CatalogFeature? { features.first { $0.code == code } }

    /// Every feature with what can be booked for `vehicle` and, for the rest, why not.
    /// - Parameter active: the features already active on the vehicle, with their end (`nil` permanent).
    public func offers(for vehicle: Vehicle, active: [FeatureCode: Int64?] = [:], now: Int64) -> [Offer] {
        features.map { feature in
            if let refusal = feature.refusal(for: vehicle, equipmentNames: equipmentNames) ?? feature.retirement(at: now) {
                return Offer(feature: feature, prices: [], refusal: refusal)
            }
            if let end = active[feature.code], end == nil || end! > now {
                let until = end.map { " until \(Instant(unixSeconds: $0).date)" } ?? " for the life of the vehicle"
                return Offer(feature: feature, prices: [],
                             refusal: Refusal(.alreadyActive, feature: feature.code, message: "\(feature.name) is already active\(until)."))
            }
            let prices = feature.prices.filter { $0.market == vehicle.market }
            guard !prices.isEmpty else {
                return Offer(feature: feature, prices: [], refusal: Refusal(.marketNotPriced, feature: feature.code,
                                                                            message: "\(feature.name) has no price in market \(vehicle.market)."))
            }
            return Offer(feature: feature, prices: prices, refusal: nil)
        }
    }
}

/// One bookable feature.
public struct CatalogFeature: Sendable, Hashable {
    /// The code.
    public var code: FeatureCode
    /// The name people see, such as "Navigation Plus".
    public var name: String
    /// Models it is offered for; empty: all.
    public var models: Set<String>
    /// The oldest model year it is offered for.
    public var minModelYear: Int?
    /// Equipment codes the vehicle must have.
    public var requires: [String]
    /// Equipment codes that rule it out.
    public var excludes: [String]
    /// Prices per market and term.
    public var prices: [Price]
    /// Whether its entitlements stay with the vehicle when it changes owner (the default); when
    /// not, they end at the transfer.
    public var transferable: Bool
    /// From when it is no longer sold (its entitlements stay valid); `nil`: not retired.
    public var retiredAt: Int64? = nil

    /// Creates a feature.
    public init(code: FeatureCode, name: String, models: Set<String> = [], minModelYear: Int? = nil, requires: [String] = [],
                excludes: [String] = [], prices: [Price], transferable: Bool = true) {
        self.transferable = transferable
        self.code = code
        self.name = name
        self.models = models
        self.minModelYear = minModelYear
        self.requires = requires
        self.excludes = excludes
        self.prices = prices
    }

    /// Why `vehicle` cannot have this feature, or `nil` if it can.
    public func refusal(for vehicle: Vehicle, equipmentNames: [String: String]) -> Refusal? {
        if !models.isEmpty, !models.contains(vehicle.model) {
            return Refusal(.model, feature: code, message: "\(name) is not offered for the \(vehicle.model) (only \(models.sorted().joined(separator: ", "))).")
        }
        if let minModelYear, vehicle.modelYear < minModelYear {
            return Refusal(.modelYear, feature: code, message: "\(name) needs model year \(minModelYear) or later; this vehicle is \(vehicle.modelYear).")
        }
        for code in requires where !vehicle.equipment.contains(code) {
            let what = equipmentNames[code].map { "the \($0) (equipment code \(code))" } ?? "equipment code \(code)"
            return Refusal(.requiresEquipment, feature: self.code, equipment: code, message: "\(name) needs \(what).")
        }
        for code in excludes where vehicle.equipment.contains(code) {
            let what = equipmentNames[code].map { "the \($0) (equipment code \(code))" } ?? "equipment code \(code)"
            return Refusal(.excludedByEquipment, feature: self.code, equipment: code, message: "\(name) cannot be combined with \(what).")
        }
        return nil
    }

    /// The price for a market and term.
    public func price(market: Market, term: Term) -> Price? { prices.first { $0.market == market && $0.term == term } }

    /// The refusal of a feature retired at `now`, or `nil`.
    public func retirement(at now: Int64) -> Refusal? {
        guard let retiredAt, retiredAt <= now else { return nil }
        return Refusal(.retired, feature: code, message: "\(name) is no longer sold (since \(Instant(unixSeconds: retiredAt).date)); what was bought stays active.")
    }
}

/// A price of a feature in one market for one term.
public struct Price: Sendable, Hashable {
    /// The market the price is for.
    public var market: Market
    /// The term.
    public var term: Term
    /// Gross price including VAT.
    public var gross: Money
    /// The VAT rate included in ``gross``.
    public var vat: BasisPoints
    /// The campaign whose price this is, while it runs; `nil`: the list price.
    public var campaign: String? = nil

    /// Creates a price.
    public init(market: Market, term: Term, gross: Money, vat: BasisPoints, campaign: String? = nil) {
        self.campaign = campaign
        self.market = market
        self.term = term
        self.gross = gross
        self.vat = vat
    }

    /// The currency of ``gross``.
    public var currency: Currency { gross.currency }
}

/// The eligibility rules a booking can fail; the raw value is the name APIs give.
public enum EligibilityRule: String, Sendable, Hashable, CaseIterable, Codable {
    /// The feature is not offered for the vehicle's model.
    case model
    /// The vehicle is older than the feature's first model year.
    case modelYear = "model_year"
    /// The vehicle lacks an equipment code the feature needs.
    case requiresEquipment = "requires_equipment"
    /// The vehicle has an equipment code that rules the feature out.
    case excludedByEquipment = "excluded_by_equipment"
    /// The feature is already active on the vehicle.
    case alreadyActive = "already_active"
    /// The feature has no price in the vehicle's market.
    case marketNotPriced = "market_not_priced"
    /// The feature is retired: no new sales.
    case retired = "feature_retired"
}

/// Why something cannot be booked: the rule, the feature, the equipment code the rule concerns,
/// and a sentence a salesperson can read to a customer. Programs read the fields; people the message.
public struct Refusal: Sendable, Hashable {
    /// The eligibility rule that refused.
    public var rule: EligibilityRule
    /// The feature refused.
    public var feature: FeatureCode
    /// The equipment code of a `requires_equipment` or `excluded_by_equipment` refusal.
    public var equipment: String?
    /// A sentence for people.
    public var message: String

    /// Creates a refusal.
    public init(_ rule: EligibilityRule, feature: FeatureCode, equipment: String? = nil, message: String) {
        self.rule = rule
        self.feature = feature
        self.equipment = equipment
        self.message = message
    }
}

/// A feature as offered for one vehicle: its prices, or why it cannot be booked.
public struct Offer: Sendable, Hashable {
    /// The feature.
    public var feature: CatalogFeature
    /// Prices for the vehicle's market; empty when refused.
    public var prices: [Price]
    /// Why not, or `nil` when bookable.
    public var refusal: Refusal?
}
