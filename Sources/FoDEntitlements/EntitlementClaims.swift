import FoundationEssentials

/// The claims of an entitlement token: one feature switched on for one vehicle.
public struct EntitlementClaims: Sendable, Hashable {
    /// `iss`: who issued it.
    public var issuer: IssuerID
    /// `sub`: the vehicle.
    public var vin: VIN
    /// `jti`: the entitlement id.
    public var id: EntitlementID
    /// `iat`, Unix seconds.
    public var issuedAt: Int64
    /// `nbf`, Unix seconds.
    public var notBefore: Int64
    /// `exp`, Unix seconds; `nil` only for ``Term/permanent``.
    public var expiresAt: Int64?
    /// `feature`.
    public var feature: FeatureCode
    /// `term`.
    public var term: Term
    /// `dealer`: who sold it; `nil` for direct sales.
    public var dealer: DealerID?
    /// `ecu`: the device it is bound to, if any.
    public var ecu: ECUIdentifier?

    /// Creates claims; ``validate()`` checks their consistency.
    public init(issuer: IssuerID, vin: VIN, id: EntitlementID, issuedAt: Int64, notBefore: Int64, expiresAt: Int64?,
                feature: FeatureCode, term: Term, dealer: DealerID? = nil, ecu: ECUIdentifier? = nil) {
        self.issuer = issuer
        self.vin = vin
        self.id = id
        self.issuedAt = issuedAt
        self.notBefore = notBefore
        self.expiresAt = expiresAt
        self.feature = feature
        self.term = term
        self.dealer = dealer
        self.ecu = ecu
    }

    /// The claim set — names, JSON types, whether required, and the order the payload is written
    /// in. The one definition: ``claimNames``, ``jsonBytes()``, ``init(json:)``, `Encodable` and the
    /// verifier's fast decoder (`decodeFast`) are checked against it by tests generated from it.
    public enum Claim: String, CaseIterable, Sendable, CodingKey {
        case iss, sub, jti, iat, nbf, exp, feature, term, dealer, ecu

        /// The claim's JSON type.
        public enum Kind: Sendable { case string, integer }

        /// `iat`, `nbf` and `exp` are NumericDates (integers); the rest strings.
        public var kind: Kind {
            switch self {
            case .iat, .nbf, .exp: .integer
            default: .string
            }
        }

        /// `exp` (absent for a permanent term), `dealer` and `ecu` are optional.
        public var isRequired: Bool {
            switch self {
            case .exp, .dealer, .ecu: false
            default: true
            }
        }
    }

    static let claimNames: Set<String> = Set(Claim.allCases.map(\.rawValue))

    /// Checks what the types alone cannot: a permanent term has no end, every other term has one,
    /// and the end is after the start.
    /// - Throws: ``EntitlementError`` `claim_missing` or `claim_invalid`.
    public func validate() throws {
        try NumericDate.check(issuedAt, "iat")
        try NumericDate.check(notBefore, "nbf")
        if let expiresAt { try NumericDate.check(expiresAt, "exp") }
        switch (term.hasEnd, expiresAt) {
        case (false, .some):
            throw EntitlementError(.claimInvalid, "a permanent entitlement has no \"exp\"")
        case (true, .none):
            throw EntitlementError(.claimMissing, "a \(term) entitlement needs \"exp\"")
        case (true, .some(let end)) where end <= notBefore:
            throw EntitlementError(.claimInvalid, "\"exp\" (\(end)) is not after \"nbf\" (\(notBefore))")
        default:
            break
        }
    }

    /// The compact JSON payload, members in a fixed order.
    public func jsonBytes() -> [UInt8] {
        var writer = JSONWriter(capacity: 320)
        writer.raw("{\"iss\":"); writer.string(issuer.value)
        writer.raw(",\"sub\":"); writer.string(vin.value)
        writer.raw(",\"jti\":"); writer.string(id.value)
        writer.raw(",\"iat\":"); writer.int(issuedAt)
        writer.raw(",\"nbf\":"); writer.int(notBefore)
        if let expiresAt { writer.raw(",\"exp\":"); writer.int(expiresAt) }
        writer.raw(",\"feature\":"); writer.string(feature.value)
        writer.raw(",\"term\":"); writer.string(term.rawValue)
        if let dealer { writer.raw(",\"dealer\":"); writer.string(dealer.value) }
        if let ecu { writer.raw(",\"ecu\":"); writer.string(ecu.value) }
        writer.raw("}")
        return writer.bytes
    }

    /// The claims as a JSON value (for display and APIs).
    public var jsonValue: JSONValue {
        // The payload we write is always valid JSON; parsing it back keeps one encoder.
        (try? JSONParser.parse(jsonBytes())) ?? .null
    }

    /// Reads claims from a parsed payload, checking member types, values and consistency.
    /// - Throws: ``EntitlementError`` `claim_unknown`, `claim_missing`, `claim_type`,
    ///   `claim_invalid` or `subject_invalid`.
    public init(json object: JSONObject) throws {
        let reader = try ClaimReader(object, allowed: EntitlementClaims.claimNames)
        let issuer = try reader.string("iss")
        let subject = try reader.string("sub")
        let id = try reader.string("jti")
        let issuedAt = try reader.integer("iat")
        let notBefore = try reader.integer("nbf")
        let expiresAt = try reader.optionalInteger("exp")
        let feature = try reader.string("feature")
        let term = try reader.string("term")
        let dealer = try reader.optionalString("dealer")
        let ecu = try reader.optionalString("ecu")
        do { self.vin = try VIN(strict: subject) } catch let error as EntitlementError {
            throw EntitlementError(.subjectInvalid, "\"sub\" is not a normalized VIN: \(error.reason)")
        }
        self.issuer = try reader.validated("iss") { try IssuerID(issuer) }
        self.id = try reader.validated("jti") { try EntitlementID(id) }
        self.issuedAt = issuedAt
        self.notBefore = notBefore
        self.expiresAt = expiresAt
        self.feature = try reader.validated("feature") { try FeatureCode(feature) }
        self.term = try reader.validated("term") { try Term(validating: term) }
        self.dealer = try dealer.map { value in try reader.validated("dealer") { try DealerID(value) } }
        self.ecu = try ecu.map { value in try reader.validated("ecu") { try ECUIdentifier(value) } }
        try validate()
    }
}

extension EntitlementClaims: Encodable {
    /// The claims as a JSON object in ``Claim`` order (an API answer's `claims`); absent optional
    /// claims are left out, as in the token.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Claim.self)
        for claim in Claim.allCases {
            switch claim {
            case .iss: try container.encode(issuer.value, forKey: claim)
            case .sub: try container.encode(vin.value, forKey: claim)
            case .jti: try container.encode(id.value, forKey: claim)
            case .iat: try container.encode(issuedAt, forKey: claim)
            case .nbf: try container.encode(notBefore, forKey: claim)
            case .exp: try container.encodeIfPresent(expiresAt, forKey: claim)
            case .feature: try container.encode(feature.value, forKey: claim)
            case .term: try container.encode(term.rawValue, forKey: claim)
            case .dealer: try container.encodeIfPresent(dealer?.value, forKey: claim)
            case .ecu: try container.encodeIfPresent(ecu?.value, forKey: claim)
            }
        }
    }
}

extension EntitlementClaims: Decodable {
    /// Reads claims as ``init(json:)`` does (the same checks and codes), from a decoder.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let value = try container.decode(JSONValue.self)
        guard case .object(let object) = value else { throw EntitlementError(.claimsMalformed, "the claims are not a JSON object") }
        try self.init(json: object)
    }
}
