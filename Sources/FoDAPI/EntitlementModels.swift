import FoDEntitlements

/// An entitlement as the API shows it (`Entitlement` in `docs/openapi.yaml`).
public struct EntitlementBody: Codable, Sendable, Hashable {
    public var id: EntitlementID
    public var vin: VIN
    public var feature: FeatureCode
    public var term: Term
    @Nullable public var dealer: DealerID?
    public var issuedAt: Int64
    public var notBefore: Int64
    @Nullable public var expiresAt: Int64?
    public var active: Bool
    @Nullable public var revokedAt: Int64?
    /// The current token: as issued, or re-issued by the active key once the key that signed it
    /// was retired (docs/trust.md) — what a vehicle should hold.
    public var token: String

    enum CodingKeys: String, CodingKey {
        case id, vin, feature, term, dealer, token
        case issuedAt = "issued_at"
        case notBefore = "not_before"
        case expiresAt = "expires_at"
        case active
        case revokedAt = "revoked_at"
    }

    /// The entitlement of `claims` with its current `token`, active or not as the caller decided at its instant.
    public init(_ claims: EntitlementClaims, token: String, active: Bool, revokedAt: Int64?) {
        id = claims.id
        vin = claims.vin
        feature = claims.feature
        term = claims.term
        dealer = claims.dealer
        issuedAt = claims.issuedAt
        notBefore = claims.notBefore
        expiresAt = claims.expiresAt
        self.active = active
        self.revokedAt = revokedAt
        self.token = token
    }
}

/// `GET /v1/vehicles/{vin}/entitlements`.
public struct EntitlementList: Codable, Sendable, Hashable {
    public var vin: VIN
    public var entitlements: [EntitlementBody]

    public init(vin: VIN, entitlements: [EntitlementBody]) {
        self.vin = vin
        self.entitlements = entitlements
    }
}

/// `POST /v1/entitlements`: a direct issue by the OEM backend.
public struct IssueRequest: StrictDecodable, CodingKeyed, Encodable, Sendable {
    public enum Keys: String, CodingKey, CaseIterable { case vin, feature, term, dealer, startsAt }
    public var vin: VIN
    public var feature: FeatureCode
    public var term: Term
    public var dealer: DealerID?
    /// `startsAt`: RFC 3339; absent: now.
    public var startsAt: String?

    public init(vin: VIN, feature: FeatureCode, term: Term, dealer: DealerID? = nil, startsAt: String? = nil) {
        self.vin = vin
        self.feature = feature
        self.term = term
        self.dealer = dealer
        self.startsAt = startsAt
    }

    /// Every member's JSON type first, then the values (`vin_malformed`, …) in member order.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        let vin = try c.decode(String.self, forKey: .vin), feature = try c.decode(String.self, forKey: .feature)
        let term = try c.decode(String.self, forKey: .term), dealer = try c.decodeIfPresent(String.self, forKey: .dealer)
        startsAt = try c.decodeIfPresent(String.self, forKey: .startsAt)
        self.vin = try VIN(vin)
        self.feature = try FeatureCode(feature)
        self.term = try Term(validating: term)
        self.dealer = try dealer.map { try DealerID($0) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(vin, forKey: .vin)
        try c.encode(feature, forKey: .feature)
        try c.encode(term, forKey: .term)
        try c.encodeIfPresent(dealer, forKey: .dealer)
        try c.encodeIfPresent(startsAt, forKey: .startsAt)
    }
}

/// The answer to a direct issue: the id, the claims and the signed token.
public struct IssueResponse: Codable, Sendable {
    public var id: EntitlementID
    public var claims: EntitlementClaims
    public var token: String

    public init(id: EntitlementID, claims: EntitlementClaims, token: String) {
        self.id = id
        self.claims = claims
        self.token = token
    }
}

/// `POST /v1/entitlements/{id}/revoke`.
public struct RevokeRequest: StrictDecodable, CodingKeyed, Codable, Sendable {
    public enum Keys: String, CodingKey, CaseIterable { case reason }
    public var reason: String

    public init(reason: String) { self.reason = reason }
}

/// The answer to a revocation.
public struct RevokeResponse: Codable, Sendable, Hashable {
    public var id: EntitlementID
    public var revoked: Bool

    public init(id: EntitlementID) {
        self.id = id
        revoked = true
    }
}

/// The answer to a refund.
public struct RefundResponse: Codable, Sendable, Hashable {
    public var id: EntitlementID
    public var refunded: Bool

    public init(id: EntitlementID) {
        self.id = id
        refunded = true
    }
}

/// `POST /v1/verify`.
public struct VerifyRequest: StrictDecodable, CodingKeyed, Encodable, Sendable {
    public enum Keys: String, CodingKey, CaseIterable { case token, vin }
    public var token: String
    /// The vehicle the token must be for.
    public var vin: VIN?

    public init(token: String, vin: VIN? = nil) {
        self.token = token
        self.vin = vin
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        token = try c.decode(String.self, forKey: .token)
        let vin = try c.decodeIfPresent(String.self, forKey: .vin)
        self.vin = try vin.map { try VIN($0) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(token, forKey: .token)
        try c.encodeIfPresent(vin, forKey: .vin)
    }
}

/// The answer to a verification that passed.
public struct VerifyResponse: Codable, Sendable {
    public var valid: Bool
    public var claims: EntitlementClaims

    public init(claims: EntitlementClaims) {
        valid = true
        self.claims = claims
    }
}

/// `POST /v1/time`: a vehicle's request for attested time.
public struct TimeRequest: StrictDecodable, CodingKeyed, Encodable, Sendable {
    public enum Keys: String, CodingKey, CaseIterable { case nonce }
    /// The vehicle's fresh nonce: 16 to 128 base64url characters.
    public var nonce: String

    public init(nonce: String) { self.nonce = nonce }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        nonce = try c.decode(String.self, forKey: .nonce)
        try TimeClaims.checkNonce(nonce)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(nonce, forKey: .nonce)
    }
}

/// The attested time: a `fod-time+jwt` token, and its time for the caller's convenience (the
/// vehicle trusts only the token).
public struct TimeResponse: Codable, Sendable {
    public var token: String
    public var time: Int64

    public init(token: String, time: Int64) {
        self.token = token
        self.time = time
    }
}
