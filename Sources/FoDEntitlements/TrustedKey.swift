import FoDCrypto

/// A public key the verifier trusts: its id, the window in which it may be used, and the token
/// types it may sign.
public struct TrustedKey: Sendable {
    /// The key.
    public let publicKey: PublicKey
    /// The key id tokens name it by: the RFC 7638 thumbprint for keys fod makes, or whatever the
    /// key's owner (an HSM, a KMS) calls it.
    public let keyID: String
    /// Unix seconds from which the key is valid, if limited.
    public var notBefore: Int64?
    /// Unix seconds from which the key is no longer valid, if limited.
    public var notAfter: Int64?
    /// A revoked key verifies nothing.
    public var revoked: Bool
    /// The token types the key may sign; `nil`: every type (a key set given without root metadata).
    public var scope: Set<TokenType>?

    /// Trusts `publicKey`, optionally under another id, within a window, for some types only.
    public init(_ publicKey: PublicKey, keyID: String? = nil, notBefore: Int64? = nil, notAfter: Int64? = nil, revoked: Bool = false,
                scope: Set<TokenType>? = nil) {
        self.publicKey = publicKey
        self.keyID = keyID ?? publicKey.thumbprint
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.revoked = revoked
        self.scope = scope
    }

    /// Whether the key may sign tokens of `type`.
    public func mayUse(for type: TokenType) -> Bool { scope?.contains(type) ?? true }

    /// Checks the key may be used at `now` (verification step 4).
    /// - Throws: ``EntitlementError`` `key_revoked`, `key_not_yet_valid` or `key_expired`.
    func checkUsable(at now: Int64) throws {
        if revoked { throw EntitlementError(.keyRevoked, "key \(keyID) is revoked") }
        if let notBefore, now < notBefore { throw EntitlementError(.keyNotYetValid, "key \(keyID) is valid from \(notBefore)") }
        if let notAfter, now >= notAfter { throw EntitlementError(.keyExpired, "key \(keyID) was valid until \(notAfter)") }
    }

    /// Whether `text` may be a key id: 1 to 256 printable ASCII characters (RFC 7517 leaves the
    /// form to the key's owner; fod bounds it so that it can be shown and stored).
    public static func isValidKeyID(_ text: String) -> Bool {
        let bytes = text.utf8
        return !bytes.isEmpty && bytes.count <= 256 && bytes.allSatisfy { $0 >= 0x21 && $0 <= 0x7E }
    }
}
