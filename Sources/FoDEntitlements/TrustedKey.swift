import FoDCrypto

/// A public key the verifier trusts, with the window in which it may be used.
public struct TrustedKey: Sendable {
    /// The key; its thumbprint is its `kid`.
    public let publicKey: PublicKey
    /// Unix seconds from which the key is valid, if limited.
    public var notBefore: Int64?
    /// Unix seconds from which the key is no longer valid, if limited.
    public var notAfter: Int64?
    /// A revoked key verifies nothing.
    public var revoked: Bool

    /// Trusts `publicKey`, optionally within a window.
    public init(_ publicKey: PublicKey, notBefore: Int64? = nil, notAfter: Int64? = nil, revoked: Bool = false) {
        self.publicKey = publicKey
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.revoked = revoked
    }

    /// The key id (RFC 7638 thumbprint).
    public var keyID: String { publicKey.thumbprint }

    /// Checks the key may be used at `now` (verification step 4).
    /// - Throws: ``EntitlementError`` `key_revoked`, `key_not_yet_valid` or `key_expired`.
    func checkUsable(at now: Int64) throws {
        if revoked { throw EntitlementError(.keyRevoked, "key \(keyID) is revoked") }
        if let notBefore, now < notBefore { throw EntitlementError(.keyNotYetValid, "key \(keyID) is valid from \(notBefore)") }
        if let notAfter, now >= notAfter { throw EntitlementError(.keyExpired, "key \(keyID) was valid until \(notAfter)") }
    }
}
