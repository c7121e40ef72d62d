import FoDEntitlements

/// `POST /v1/activations` (and the dealer page's booking form): what the dealer asks for, with
/// the customer's consent when the dealer recorded it (absent: given in person, without an
/// early-start request).
public struct ActivationRequest: StrictDecodable, CodingKeyed, Encodable, Sendable, Hashable {
    public enum Keys: String, CodingKey, CaseIterable { case vin, feature, term, consent, extend }
    public var vin: VIN
    public var feature: FeatureCode
    public var term: Term
    public var consent: Consent?
    /// An extension of what the vehicle has of the feature: a fixed term appended to its current
    /// end, or an upgrade to `permanent` from now.
    public var extend: Bool

    public init(vin: VIN, feature: FeatureCode, term: Term, consent: Consent? = nil, extend: Bool = false) {
        self.vin = vin
        self.feature = feature
        self.term = term
        self.consent = consent
        self.extend = extend
    }

    /// Every member's JSON type first, then the values in member order.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        let vin = try c.decode(String.self, forKey: .vin), feature = try c.decode(String.self, forKey: .feature)
        let term = try c.decode(String.self, forKey: .term)
        let extend = try c.decodeIfPresent(Bool.self, forKey: .extend) ?? false
        self.init(vin: try VIN(vin), feature: try FeatureCode(feature), term: try Term(validating: term),
                  consent: try c.decodeStrictIfPresent(Consent.self, forKey: .consent), extend: extend)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(vin, forKey: .vin)
        try c.encode(feature, forKey: .feature)
        try c.encode(term, forKey: .term)
        try c.encodeIfPresent(consent, forKey: .consent)
        if extend { try c.encode(true, forKey: .extend) }
    }
}

/// The answer to an activation (`Activation` in `docs/openapi.yaml`), stored with its
/// idempotency key and replayed byte for byte.
public struct ActivationResponse: Codable, Sendable, Hashable {
    public var id: EntitlementID
    public var vin: VIN
    public var feature: FeatureCode
    public var term: Term
    @Nullable public var dealer: DealerID?
    public var notBefore: Int64
    @Nullable public var expiresAt: Int64?
    public var price: PriceBody
    public var token: String

    enum CodingKeys: String, CodingKey {
        case id, vin, feature, term, dealer
        case notBefore = "not_before"
        case expiresAt = "expires_at"
        case price, token
    }

    public init(claims: EntitlementClaims, token: String, price: Price) {
        id = claims.id
        vin = claims.vin
        feature = claims.feature
        term = claims.term
        dealer = claims.dealer
        notBefore = claims.notBefore
        expiresAt = claims.expiresAt
        self.price = PriceBody(price)
        self.token = token
    }
}
