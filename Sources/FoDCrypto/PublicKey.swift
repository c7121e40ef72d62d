/// A public signing key (P-256 or Ed25519) that verifies signatures.
///
/// A value type over an immutable OpenSSL key; cheap to copy and safe to share between tasks.
public struct PublicKey: Sendable {
    let key: EVPKey
    /// The algorithm this key verifies. A key carries its algorithm; a token header never chooses it.
    public let algorithm: SigningAlgorithm
    /// The RFC 7638 JWK thumbprint, fod's key id.
    public let thumbprint: String

    init(key: EVPKey) throws {
        self.key = key
        self.algorithm = key.algorithm
        self.thumbprint = try key.jwk(includePrivate: false).thumbprint
    }

    /// Parses a PEM SubjectPublicKeyInfo.
    /// - Throws: ``CryptoError`` `key_malformed` or `key_unsupported`.
    public init(pem: String) throws {
        try self.init(key: EVPKey.publicKey(pem: pem))
    }

    /// Parses a DER SubjectPublicKeyInfo.
    /// - Throws: ``CryptoError`` `key_malformed` or `key_unsupported`.
    public init(spki: [UInt8]) throws {
        try self.init(key: EVPKey.publicKey(spki: spki))
    }

    /// Builds a key from a public JWK (a `d` member is ignored: only the public half is kept).
    /// - Throws: ``CryptoError`` `jwk_malformed`, `key_unsupported` or `key_malformed`.
    public init(jwk: JWK) throws {
        try self.init(key: EVPKey.from(jwk: jwk.publicOnly))
    }

    /// The key as PEM SubjectPublicKeyInfo.
    public func pem() throws -> String { try key.publicPEM() }

    /// The key as DER SubjectPublicKeyInfo.
    public func spki() throws -> [UInt8] { try key.spkiDER() }

    /// The key as a public JWK with `kid` (the thumbprint), `alg` and `use: "sig"`.
    public func jwk() throws -> JWK {
        var jwk = try key.jwk(includePrivate: false)
        jwk.kid = thumbprint
        jwk.alg = algorithm.jwsName
        jwk.use = "sig"
        return jwk
    }

    /// Verifies a JWS-form signature (64-byte `r‖s` for ES256, 64 bytes for EdDSA) over `message`.
    /// - Throws: ``CryptoError`` `signature_malformed` (wrong length) or `signature_invalid`.
    public func verify(signature: [UInt8], for message: [UInt8]) throws {
        try signature.withUnsafeBytes { sig in
            try message.withUnsafeBytes { msg in try key.verify(signature: sig, message: msg) }
        }
    }

    /// Verifies a JWS-form signature over the bytes in `message` without copying them.
    /// - Throws: ``CryptoError`` `signature_malformed` (wrong length) or `signature_invalid`.
    public func verify(signature: UnsafeRawBufferPointer, for message: UnsafeRawBufferPointer) throws {
        try key.verify(signature: signature, message: message)
    }

    /// Verifies a signature in OpenSSL's native encoding: ASN.1 DER for ECDSA (non-DER encodings
    /// are rejected by OpenSSL), raw 64 bytes for Ed25519.
    /// - Throws: ``CryptoError`` `signature_invalid`.
    public func verify(nativeSignature signature: [UInt8], for message: [UInt8]) throws {
        try signature.withUnsafeBytes { sig in
            try message.withUnsafeBytes { msg in try key.verifyEncoded(signature: sig, message: msg) }
        }
    }
}

extension PublicKey: Equatable {
    /// Two keys are equal when their public key material is (same thumbprint).
    public static func == (lhs: PublicKey, rhs: PublicKey) -> Bool { lhs.thumbprint == rhs.thumbprint }
}
