import FoundationEssentials
import FoDCrypto

/// Signs entitlements and vehicle manifests with one private key.
public struct Issuer: Sendable {
    /// The signing key.
    public let key: PrivateKey
    /// The `iss` of everything this issuer signs.
    public let issuer: IssuerID
    private let clock: any WallClock
    private let entitlementHeader: [UInt8]
    private let manifestHeader: [UInt8]
    private let timeHeader: [UInt8]

    /// The key id written into every header.
    public let keyID: String

    /// Creates an issuer.
    /// - Parameter keyID: the `kid` to write (default: the key's RFC 7638 thumbprint; root
    ///   metadata may name the key otherwise).
    public init(key: PrivateKey, keyID: String? = nil, issuer: IssuerID, clock: any WallClock = SystemClock()) {
        self.key = key
        self.issuer = issuer
        self.clock = clock
        let kid = keyID ?? key.keyID
        self.keyID = kid
        self.entitlementHeader = JWSHeader.encoded(algorithm: key.algorithm, keyID: kid, type: .entitlement)
        self.manifestHeader = JWSHeader.encoded(algorithm: key.algorithm, keyID: kid, type: .manifest)
        self.timeHeader = JWSHeader.encoded(algorithm: key.algorithm, keyID: kid, type: .time)
    }

    /// Issues an entitlement now: a new UUIDv7 id, `iat` = now, `nbf` = the requested start or now,
    /// `exp` = the requested end or the term's end.
    /// - Throws: ``EntitlementError`` `request_invalid` (an end before the start, an end for a
    ///   permanent term) or `signing_failed`.
    public func issue(_ request: EntitlementRequest) throws -> IssuedToken<EntitlementClaims> {
        let now = clock.now()
        let nowSeconds = Int64(now.timeIntervalSince1970.rounded(.down))
        let start = request.notBefore ?? nowSeconds
        for (name, value) in [("start", start), ("end", request.expiresAt)] {
            if let value, !NumericDate.range.contains(value) {
                throw EntitlementError(.requestInvalid, "the \(name) (\(value)) is outside 1970-01-01 to 9999-12-31")
            }
        }
        if request.term == .permanent, request.expiresAt != nil {
            throw EntitlementError(.requestInvalid, "a permanent entitlement has no end")
        }
        let end = request.expiresAt ?? request.term.end(startingAt: start)
        if let end, end <= start {
            throw EntitlementError(.requestInvalid, "the end (\(end)) is not after the start (\(start))")
        }
        if let end, !NumericDate.range.contains(end) {
            throw EntitlementError(.requestInvalid, "the term ends after 9999-12-31")
        }
        let claims = EntitlementClaims(
            issuer: issuer, vin: request.vin,
            id: .uuidV7(unixMilliseconds: Int64(now.timeIntervalSince1970 * 1000)),
            issuedAt: nowSeconds, notBefore: start, expiresAt: end,
            feature: request.feature, term: request.term, dealer: request.dealer, ecu: request.ecu)
        return IssuedToken(claims: claims, token: try sign(claims))
    }

    /// Signs the given claims as they are.
    /// - Throws: ``EntitlementError`` `claim_*` if the claims are inconsistent, or `signing_failed`.
    public func sign(_ claims: EntitlementClaims) throws -> String {
        try claims.validate()
        return try CompactJWS.sign(encodedHeader: entitlementHeader, payload: claims.jsonBytes(), key: key)
    }

    /// Signs an attested-time token: now, for `nonce`.
    /// - Throws: ``EntitlementError`` `nonce_invalid` or `signing_failed`.
    public func attestTime(nonce: String) throws -> (claims: TimeClaims, token: String) {
        let claims = try TimeClaims(issuer: issuer, time: clock.unixSeconds(), nonce: nonce)
        return (claims, try CompactJWS.sign(encodedHeader: timeHeader, payload: claims.jsonBytes(), key: key))
    }

    /// Signs a vehicle manifest.
    /// - Throws: ``EntitlementError`` `claim_*` if the manifest is inconsistent, or `signing_failed`.
    public func sign(_ manifest: ManifestClaims) throws -> String {
        try manifest.validate()
        return try CompactJWS.sign(encodedHeader: manifestHeader, payload: manifest.jsonBytes(), key: key)
    }
}
