/// What to issue: the issuer fills in `iss`, `jti`, `iat` and, unless given, `nbf` and `exp`.
public struct EntitlementRequest: Sendable, Hashable {
    /// The vehicle.
    public var vin: VIN
    /// The feature.
    public var feature: FeatureCode
    /// The term.
    public var term: Term
    /// The dealer credited, if any.
    public var dealer: DealerID?
    /// The device the feature is bound to, if any.
    public var ecu: ECUIdentifier?
    /// Start, Unix seconds; default: now.
    public var notBefore: Int64?
    /// End, Unix seconds; default: the term's end from the start (none for permanent).
    public var expiresAt: Int64?

    /// Creates a request.
    public init(vin: VIN, feature: FeatureCode, term: Term, dealer: DealerID? = nil, ecu: ECUIdentifier? = nil,
                notBefore: Int64? = nil, expiresAt: Int64? = nil) {
        self.vin = vin
        self.feature = feature
        self.term = term
        self.dealer = dealer
        self.ecu = ecu
        self.notBefore = notBefore
        self.expiresAt = expiresAt
    }
}

/// An issued token with the claims it carries.
public struct IssuedToken<Claims: Sendable & Hashable>: Sendable, Hashable {
    /// The claims.
    public let claims: Claims
    /// The compact JWS.
    public let token: String
}
