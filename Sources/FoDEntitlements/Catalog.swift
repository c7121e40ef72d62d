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
            if let refusal = feature.refusal(for: vehicle, equipmentNames: equipmentNames) {
                return Offer(feature: feature, prices: [], refusal: refusal)
            }
            if let end = active[feature.code], end == nil || end! > now {
                let until = end.map { " until \(Timestamp8601.date($0))" } ?? " for the life of the vehicle"
                return Offer(feature: feature, prices: [],
                             refusal: Refusal(rule: "already_active", message: "\(feature.name) is already active\(until)."))
            }
            let prices = feature.prices.filter { $0.market == vehicle.market }
            guard !prices.isEmpty else {
                return Offer(feature: feature, prices: [], refusal: Refusal(rule: "market_not_priced",
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

    /// Creates a feature.
    public init(code: FeatureCode, name: String, models: Set<String> = [], minModelYear: Int? = nil, requires: [String] = [],
                excludes: [String] = [], prices: [Price]) {
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
            return Refusal(rule: "model", message: "\(name) is not offered for the \(vehicle.model) (only \(models.sorted().joined(separator: ", "))).")
        }
        if let minModelYear, vehicle.modelYear < minModelYear {
            return Refusal(rule: "model_year", message: "\(name) needs model year \(minModelYear) or later; this vehicle is \(vehicle.modelYear).")
        }
        for code in requires where !vehicle.equipment.contains(code) {
            let what = equipmentNames[code].map { "the \($0) (equipment code \(code))" } ?? "equipment code \(code)"
            return Refusal(rule: "requires_equipment", message: "\(name) needs \(what).")
        }
        for code in excludes where vehicle.equipment.contains(code) {
            let what = equipmentNames[code].map { "the \($0) (equipment code \(code))" } ?? "equipment code \(code)"
            return Refusal(rule: "excluded_by_equipment", message: "\(name) cannot be combined with \(what).")
        }
        return nil
    }

    /// The price for a market and term.
    public func price(market: String, term: Term) -> Price? { prices.first { $0.market == market && $0.term == term } }
}

/// A price of a feature in one market for one term.
public struct Price: Sendable, Hashable {
    /// Market (ISO 3166-1 alpha-2).
    public var market: String
    /// Currency (ISO 4217).
    public var currency: String
    /// The term.
    public var term: Term
    /// Gross price including VAT, minor units.
    public var grossMinor: Int64
    /// VAT rate, basis points.
    public var vatBps: Int64

    /// Creates a price.
    public init(market: String, currency: String, term: Term, grossMinor: Int64, vatBps: Int64) {
        self.market = market
        self.currency = currency
        self.term = term
        self.grossMinor = grossMinor
        self.vatBps = vatBps
    }
}

/// Why something cannot be booked: the rule, and a sentence a salesperson can read to a customer.
public struct Refusal: Sendable, Hashable {
    /// The eligibility rule that refused (`model`, `model_year`, `requires_equipment`, …).
    public var rule: String
    /// A sentence for people.
    public var message: String
    /// Creates a refusal.
    public init(rule: String, message: String) {
        self.rule = rule
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

/// Dates for people in messages.
enum Timestamp8601 {
    static func date(_ unixSeconds: Int64) -> String {
        let date = CivilDate(unixSeconds: unixSeconds)
        func pad(_ value: Int64) -> String { value < 10 ? "0\(value)" : String(value) }
        return "\(date.year)-\(pad(date.month))-\(pad(date.day))"
    }
}
