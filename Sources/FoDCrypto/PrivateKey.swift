import FoundationEssentials

/// A private signing key (P-256 or Ed25519).
///
/// Its `description` never shows key material, so a key that reaches a log or an error
/// message by accident leaks nothing.
public struct PrivateKey: Sendable, CustomStringConvertible {
    /// Where the private half is: in memory, or in a PKCS#11 token (signed with through its module).
    enum Backing: Sendable {
        case memory(EVPKey)
        case token(PKCS11Key)
    }
    let backing: Backing
    /// The public half.
    public let publicKey: PublicKey
    /// The PKCS#11 token holding the private half, for a key that never leaves it (`nil`: the
    /// key is in memory, generated or read from PEM or a JWK).
    public let token: PKCS11URI?

    /// The algorithm this key signs with.
    public var algorithm: SigningAlgorithm { publicKey.algorithm }

    /// The key id: the RFC 7638 thumbprint of the public key.
    public var keyID: String { publicKey.thumbprint }

    /// The key in memory (`nil`: in a token).
    var key: EVPKey? {
        guard case .memory(let key) = backing else { return nil }
        return key
    }

    init(key: EVPKey) throws {
        self.backing = .memory(key)
        self.publicKey = try PublicKey(key: key.publicOnly())
        self.token = nil
    }

    /// Opens the private key a PKCS#11 URI names (RFC 7512) through its module directly
    /// (``PKCS11Key``: no OpenSSL ENGINE); its private half never leaves the token. The PIN comes
    /// from the URI's `pin-source` (a file, mode 0600) or `pin-value`, or else `FOD_PKCS11_PIN`; the
    /// module from `module-path`, or else `FOD_PKCS11_MODULE`, or else p11-kit's proxy. P-256 and
    /// Ed25519 keys; the token must hold the public key beside the private one, and a signature
    /// made on opening is checked against it.
    /// - Throws: ``CryptoError`` `pkcs11_unavailable`, `pkcs11_key_unavailable`, `key_unsupported`,
    ///   `key_mismatch`, `pkcs11_token_unavailable`, or `key_file_permissions`/`key_file_io` for the PIN file.
    public init(pkcs11 uri: PKCS11URI, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let key = try PKCS11Key(uri, environment: environment)
        self.backing = .token(key)
        self.publicKey = try PublicKey(key: EVPKey.publicKey(spki: key.publicKeySPKI))
        guard publicKey.algorithm == key.algorithm else {
            throw CryptoError(.keyMismatch, "the public key beside the private key at \(uri.keyIdentifier) is of another type")
        }
        self.token = uri
        let probe = Array("fod: does the token's private key match its public key?".utf8)
        let signature = try self.signature(for: probe)
        do {
            try publicKey.verify(signature: signature, for: probe)
        } catch {
            throw CryptoError(.keyMismatch, "the private key at \(uri.keyIdentifier) does not match the public key beside it")
        }
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
    /// - Throws: ``CryptoError`` `key_not_exportable` for a key in a PKCS#11 token.
    public func pkcs8PEM() throws -> String {
        return try requireExportable().privatePEM()
    }

    /// The key as a private JWK (with `d`), `kid`, `alg` and `use`.
    /// - Throws: ``CryptoError`` `key_not_exportable` for a key in a PKCS#11 token.
    public func privateJWK() throws -> JWK {
        var jwk = try requireExportable().jwk(includePrivate: true)
        jwk.kid = keyID
        jwk.alg = algorithm.jwsName
        jwk.use = "sig"
        return jwk
    }

    /// Signs `message`; the result is the JWS-form signature (64 bytes: `r‖s` for ES256).
    /// - Throws: ``CryptoError`` `crypto_openssl` if OpenSSL fails.
    public func signature(for message: [UInt8]) throws -> [UInt8] {
        try message.withUnsafeBytes { msg in try signature(for: msg) }
    }

    /// Signs the bytes in `message` without copying them.
    /// - Throws: ``CryptoError`` `crypto_openssl` if OpenSSL fails; `pkcs11_token_unavailable` when
    ///   the token cannot sign now (the next signature tries to reach it again).
    public func signature(for message: UnsafeRawBufferPointer) throws -> [UInt8] {
        switch backing {
        case .memory(let key): try key.sign(message)
        case .token(let key): try key.sign(message)
        }
    }

    /// Whether a token key can sign now as far as its session pool knows (a key in memory: always).
    public var isReachable: Bool {
        guard case .token(let key) = backing else { return true }
        return key.isConnected
    }

    /// Reaches for a token key's token (reconnecting after a failure) without signing: whether it
    /// is there (a key in memory: always). For readiness checks.
    public func reach() -> Bool {
        guard case .token(let key) = backing else { return true }
        return key.probe()
    }

    public var description: String {
        guard let token else { return "PrivateKey(\(algorithm), kid: \(keyID))" }
        return "PrivateKey(\(algorithm), kid: \(keyID), in \(token.keyIdentifier))"
    }

    private func requireExportable() throws -> EVPKey {
        guard let key else {
            throw CryptoError(.keyNotExportable, "the private key is in a PKCS#11 token (\(token?.keyIdentifier ?? "")) and never leaves it")
        }
        return key
    }
}
