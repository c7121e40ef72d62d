/// The claims of a vehicle manifest: everything active for one VIN, with a version that only grows.
public struct ManifestClaims: Sendable, Hashable {
    /// One active entitlement as the manifest lists it.
    public struct Entry: Sendable, Hashable {
        /// `jti`.
        public var id: EntitlementID
        /// `feature`.
        public var feature: FeatureCode
        /// `term`.
        public var term: Term
        /// `nbf`, Unix seconds.
        public var notBefore: Int64
        /// `exp`, Unix seconds; `nil` for permanent.
        public var expiresAt: Int64?

        /// Creates an entry.
        public init(id: EntitlementID, feature: FeatureCode, term: Term, notBefore: Int64, expiresAt: Int64?) {
            self.id = id
            self.feature = feature
            self.term = term
            self.notBefore = notBefore
            self.expiresAt = expiresAt
        }

        /// The entry for an entitlement.
        public init(_ claims: EntitlementClaims) {
            self.init(id: claims.id, feature: claims.feature, term: claims.term, notBefore: claims.notBefore, expiresAt: claims.expiresAt)
        }
    }

    /// `iss`.
    public var issuer: IssuerID
    /// `sub`: the vehicle.
    public var vin: VIN
    /// `iat`, Unix seconds.
    public var issuedAt: Int64
    /// `ver`: strictly increasing per VIN, never reused (≥ 1).
    public var version: Int64
    /// `exp`: freshness; the vehicle keeps its last good manifest when no newer one is to be had.
    public var expiresAt: Int64
    /// `entitlements`.
    public var entitlements: [Entry]

    /// Creates manifest claims.
    public init(issuer: IssuerID, vin: VIN, issuedAt: Int64, version: Int64, expiresAt: Int64, entitlements: [Entry]) {
        self.issuer = issuer
        self.vin = vin
        self.issuedAt = issuedAt
        self.version = version
        self.expiresAt = expiresAt
        self.entitlements = entitlements
    }

    static let claimNames: Set<String> = ["iss", "sub", "iat", "ver", "exp", "entitlements"]
    static let entryNames: Set<String> = ["jti", "feature", "term", "nbf", "exp"]

    /// The compact JSON payload.
    public func jsonBytes() -> [UInt8] {
        var writer = JSONWriter(capacity: 256 + 128 * entitlements.count)
        writer.raw("{\"iss\":"); writer.string(issuer.value)
        writer.raw(",\"sub\":"); writer.string(vin.value)
        writer.raw(",\"iat\":"); writer.int(issuedAt)
        writer.raw(",\"ver\":"); writer.int(version)
        writer.raw(",\"exp\":"); writer.int(expiresAt)
        writer.raw(",\"entitlements\":[")
        for (index, entry) in entitlements.enumerated() {
            if index > 0 { writer.raw(",") }
            writer.raw("{\"jti\":"); writer.string(entry.id.value)
            writer.raw(",\"feature\":"); writer.string(entry.feature.value)
            writer.raw(",\"term\":"); writer.string(entry.term.rawValue)
            writer.raw(",\"nbf\":"); writer.int(entry.notBefore)
            if let end = entry.expiresAt { writer.raw(",\"exp\":"); writer.int(end) }
            writer.raw("}")
        }
        writer.raw("]}")
        return writer.bytes
    }

    /// The claims as a JSON value.
    public var jsonValue: JSONValue { (try? JSONParser.parse(jsonBytes())) ?? .null }

    /// Checks that the version is positive, entries are consistent and no id appears twice.
    /// - Throws: ``EntitlementError`` `claim_invalid` or `claim_missing`.
    public func validate() throws {
        guard version >= 1 else { throw EntitlementError(.claimInvalid, "\"ver\" must be at least 1") }
        try NumericDate.check(issuedAt, "iat")
        try NumericDate.check(expiresAt, "exp")
        var seen = Set<EntitlementID>()
        for entry in entitlements {
            try NumericDate.check(entry.notBefore, "entitlement \(entry.id) nbf")
            if let end = entry.expiresAt { try NumericDate.check(end, "entitlement \(entry.id) exp") }
            guard seen.insert(entry.id).inserted else {
                throw EntitlementError(.claimInvalid, "entitlement \(entry.id) is listed twice")
            }
            switch (entry.term.hasEnd, entry.expiresAt) {
            case (false, .some): throw EntitlementError(.claimInvalid, "entitlement \(entry.id): a permanent entitlement has no \"exp\"")
            case (true, .none): throw EntitlementError(.claimMissing, "entitlement \(entry.id): a \(entry.term) entitlement needs \"exp\"")
            case (true, .some(let end)) where end <= entry.notBefore:
                throw EntitlementError(.claimInvalid, "entitlement \(entry.id): \"exp\" is not after \"nbf\"")
            default: break
            }
        }
    }

    /// Reads manifest claims from a parsed payload.
    /// - Throws: ``EntitlementError`` `claim_*` or `subject_invalid`.
    public init(json object: JSONObject) throws {
        let reader = try ClaimReader(object, allowed: ManifestClaims.claimNames)
        let issuer = try reader.string("iss")
        let subject = try reader.string("sub")
        self.issuedAt = try reader.integer("iat")
        self.version = try reader.integer("ver")
        self.expiresAt = try reader.integer("exp")
        let list = try reader.array("entitlements")
        do { self.vin = try VIN(strict: subject) } catch let error as EntitlementError {
            throw EntitlementError(.subjectInvalid, "\"sub\" is not a normalized VIN: \(error.reason)")
        }
        self.issuer = try reader.validated("iss") { try IssuerID(issuer) }
        var entries: [Entry] = []
        entries.reserveCapacity(list.count)
        for (index, element) in list.enumerated() {
            let context = "manifest entry \(index)"
            guard case .object(let entryObject) = element else {
                throw EntitlementError(.claimType, "\(context) is \(element.typeName), expected an object")
            }
            let entry = try ClaimReader(entryObject, allowed: ManifestClaims.entryNames, context: context)
            let id = try entry.string("jti")
            let feature = try entry.string("feature")
            let term = try entry.string("term")
            entries.append(Entry(
                id: try entry.validated("jti") { try EntitlementID(id) },
                feature: try entry.validated("feature") { try FeatureCode(feature) },
                term: try entry.validated("term") { try Term(validating: term) },
                notBefore: try entry.integer("nbf"),
                expiresAt: try entry.optionalInteger("exp")))
        }
        self.entitlements = entries
        try validate()
    }
}
