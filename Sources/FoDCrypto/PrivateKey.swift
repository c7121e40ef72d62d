/// A private signing key (P-256 or Ed25519).
///
/// Its `description` never shows key material, so a key that reaches a log or an error
/// message by accident leaks nothing.
public struct PrivateKey: Sendable, CustomStringConvertible {
    let key: EVPKey
    /// The public half.
    public let publicKey: PublicKey

    /// The algorithm this key signs with.
    public var algorithm: SigningAlgorithm { publicKey.algorithm }

    /// The key id: the RFC 7638 thumbprint of the public key.
    public var keyID: String { publicKey.thumbprint }

    init(key: EVPKey) throws {
        self.key = key
        self.publicKey = try PublicKey(key: key.publicOnly())
    }

    /// Generates a new key pair from OpenSSL's CSPRNG.
    /// - Throws: ``CryptoError`` `crypto_openssl` if OpenSSL fails.
    public static func generate(_ algorithm: SigningAlgorithm) throws -> PrivateKey {
        try PrivateKey(key: EVPKey.generate(algorithm))
    }

    /// Parses a PEM private key (PKCS#8 or traditional EC); encrypted keys are refused.
    /// - Throws: ``CryptoError`` `key_malformed`, `key_unsupported` or `key_mismatch`.
    public init(pem: String) throws {
        let key = try EVPKey.privateKey(pem: pem)
        try key.checkPair()
        try self.init(key: key)
    }

    /// Builds a private key from a JWK with `d`; `x`/`y` must match `d`.
    /// - Throws: ``CryptoError`` `jwk_malformed`, `key_unsupported`, `key_malformed` or `key_mismatch`.
    public init(jwk: JWK) throws {
        guard jwk.d != nil else { throw CryptoError(.jwkMalformed, "JWK has no private member 'd'") }
        try self.init(key: EVPKey.from(jwk: jwk))
    }

    /// The key as unencrypted PKCS#8 PEM. Write it only to a file created with mode 0600
    /// (``KeyFile/writePrivateKey(_:to:)``).
    public func pkcs8PEM() throws -> String { try key.privatePEM() }

    /// The key as a private JWK (with `d`), `kid`, `alg` and `use`.
    public func privateJWK() throws -> JWK {
        var jwk = try key.jwk(includePrivate: true)
        jwk.kid = keyID
        jwk.alg = algorithm.jwsName
        jwk.use = "sig"
        return jwk
    }

    /// Signs `message`; the result is the JWS-form signature (64 bytes: `r‖s` for ES256).
    /// - Throws: ``CryptoError`` `crypto_openssl` if OpenSSL fails.
    public func signature(for message: [UInt8]) throws -> [UInt8] {
        try message.withUnsafeBytes { msg in try key.sign(msg) }
    }

    /// Signs the bytes in `message` without copying them.
    /// - Throws: ``CryptoError`` `crypto_openssl` if OpenSSL fails.
    public func signature(for message: UnsafeRawBufferPointer) throws -> [UInt8] {
        try key.sign(message)
    }

    public var description: String { "PrivateKey(\(algorithm), kid: \(keyID))" }
}
