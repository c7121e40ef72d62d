import FoDCore
import FoDEntitlements

/// The channels a purchase comes from besides the counter (docs/revenue-share.md).
public enum PurchaseChannel: String, Codable, Sendable, Hashable, CaseIterable {
    /// The OEM's web shop or app.
    case online
    /// The car's own store.
    case vehicle
}

/// `POST /v1/purchases`: a sale in the OEM's shop, app or car, credited to the vehicle's
/// servicing dealer; idempotent by `order_id`.
public struct PurchaseRequest: StrictDecodable, CodingKeyed, Encodable, Sendable, Hashable {
    public enum Keys: String, CodingKey, CaseIterable {
        case vin, feature, term, channel
        case orderID = "order_id"
        case grossMinor = "gross_minor"
        case currency, consent, extend
    }
    public var vin: VIN
    public var feature: FeatureCode
    public var term: Term
    public var channel: PurchaseChannel
    /// The shop's order id: 1–128 visible ASCII characters, unique across the shop's keys.
    public var orderID: String
    /// The price the customer paid, VAT included, in minor units: must be the catalog's.
    public var grossMinor: Int64
    public var currency: Currency
    public var consent: Consent
    /// An extension (a fixed term appended to the current end) or an upgrade to `permanent`.
    public var extend: Bool

    public init(vin: VIN, feature: FeatureCode, term: Term, channel: PurchaseChannel, orderID: String, grossMinor: Int64, currency: Currency, consent: Consent,
                extend: Bool = false) {
        self.extend = extend
        self.vin = vin
        self.feature = feature
        self.term = term
        self.channel = channel
        self.orderID = orderID
        self.grossMinor = grossMinor
        self.currency = currency
        self.consent = consent
    }

    /// Every member's JSON type first, then the values in member order.
    /// - Throws: ``EntitlementError`` (`field_missing`, `field_type`, `request_invalid` for a bad
    ///   channel or order id, a member's own code), ``CoreError`` for the currency.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        let vin = try c.decode(String.self, forKey: .vin), feature = try c.decode(String.self, forKey: .feature)
        let term = try c.decode(String.self, forKey: .term), channel = try c.decode(String.self, forKey: .channel)
        let order = try c.decode(String.self, forKey: .orderID), gross = try c.decode(Int64.self, forKey: .grossMinor)
        let currency = try c.decode(String.self, forKey: .currency)
        let consent = try c.decodeStrict(Consent.self, forKey: .consent)
        extend = try c.decodeIfPresent(Bool.self, forKey: .extend) ?? false
        self.vin = try VIN(vin)
        self.feature = try FeatureCode(feature)
        self.term = try Term(validating: term)
        guard let known = PurchaseChannel(rawValue: channel) else {
            throw EntitlementError(.requestInvalid, "channel must be online or vehicle (a counter sale is POST /v1/activations)")
        }
        self.channel = known
        guard PurchaseRequest.isValidOrderID(order) else {
            throw EntitlementError(.requestInvalid, "order_id must be 1 to 128 visible ASCII characters")
        }
        self.orderID = order
        guard gross >= 0 else { throw EntitlementError(.requestInvalid, "gross_minor must not be negative") }
        self.grossMinor = gross
        self.currency = try Currency(currency)
        guard consent.termsVersion != nil else {
            throw EntitlementError(.fieldMissing, "consent: \"terms_version\" is required on a purchase (the terms the customer accepted)")
        }
        self.consent = consent
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(vin, forKey: .vin)
        try c.encode(feature, forKey: .feature)
        try c.encode(term, forKey: .term)
        try c.encode(channel, forKey: .channel)
        try c.encode(orderID, forKey: .orderID)
        try c.encode(grossMinor, forKey: .grossMinor)
        try c.encode(currency.code, forKey: .currency)
        try c.encode(consent, forKey: .consent)
        if extend { try c.encode(true, forKey: .extend) }
    }

    /// 1–128 visible ASCII characters.
    public static func isValidOrderID(_ id: String) -> Bool { VisibleToken.isValid(id, maxLength: 128) }
}

/// The answer to a purchase (`Purchase` in `docs/openapi.yaml`): the activation's answer with the
/// order and channel; stored with the order id and replayed byte for byte.
public struct PurchaseResponse: Codable, Sendable, Hashable {
    public var orderID: String
    public var channel: PurchaseChannel
    public var id: EntitlementID
    public var vin: VIN
    public var feature: FeatureCode
    public var term: Term
    /// The servicing dealer credited.
    public var dealer: DealerID
    public var notBefore: Int64
    @Nullable public var expiresAt: Int64?
    public var price: PriceBody
    public var token: String

    enum CodingKeys: String, CodingKey {
        case orderID = "order_id"
        case channel, id, vin, feature, term, dealer
        case notBefore = "not_before"
        case expiresAt = "expires_at"
        case price, token
    }

    public init(orderID: String, channel: PurchaseChannel, claims: EntitlementClaims, dealer: DealerID, token: String, price: Price) {
        self.orderID = orderID
        self.channel = channel
        id = claims.id
        vin = claims.vin
        feature = claims.feature
        term = claims.term
        self.dealer = dealer
        notBefore = claims.notBefore
        expiresAt = claims.expiresAt
        self.price = PriceBody(price)
        self.token = token
    }
}
