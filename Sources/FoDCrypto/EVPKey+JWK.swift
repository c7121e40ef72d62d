import COpenSSL

extension EVPKey {
    /// DER prefix of a P-256 SubjectPublicKeyInfo up to the uncompressed point (04‖x‖y).
    private static let p256SPKIPrefix: [UInt8] = Hex.decode("3059301306072a8648ce3d020106082a8648ce3d030107034200")!

    /// Builds a key from a JWK; a JWK with `d` gives a private key whose public half is checked
    /// against `x`/`y`.
    static func from(jwk: JWK) throws -> EVPKey {
        let algorithm: SigningAlgorithm
        switch (jwk.kty, jwk.crv) {
        case ("EC", "P-256"): algorithm = .es256
        case ("OKP", "Ed25519"): algorithm = .edDSA
        default: throw CryptoError(.keyUnsupported, "JWK kty '\(jwk.kty)' crv '\(jwk.crv)' is not P-256 or Ed25519")
        }
        if let alg = jwk.alg, alg != algorithm.jwsName {
            throw CryptoError(.jwkMalformed, "JWK alg '\(alg)' does not match its key type (\(algorithm))")
        }
        if let use = jwk.use, use != "sig" {
            throw CryptoError(.jwkMalformed, "JWK use '\(use)' is not 'sig'")
        }
        let x = try coordinate(jwk.x, "x")
        let publicKey: EVPKey
        switch algorithm {
        case .es256:
            guard let yText = jwk.y else { throw CryptoError(.jwkMalformed, "EC JWK without 'y'") }
            let y = try coordinate(yText, "y")
            publicKey = try EVPKey.publicKey(spki: p256SPKIPrefix + [0x04] + x + y)
        case .edDSA:
            guard jwk.y == nil else { throw CryptoError(.jwkMalformed, "OKP JWK must not have 'y'") }
            guard let pointer = x.withUnsafeBufferPointer({
                EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, $0.baseAddress, $0.count)
            }) else { throw OpenSSLErrorQueue.error(.keyMalformed, "not an Ed25519 public key") }
            publicKey = try EVPKey(takingOwnershipOf: pointer)
        }
        guard let dText = jwk.d else { return publicKey }
        let d = try coordinate(dText, "d")
        let privateKey: EVPKey
        switch algorithm {
        case .es256: privateKey = try p256PrivateKey(d: d, publicKey: publicKey)
        case .edDSA:
            guard let pointer = d.withUnsafeBufferPointer({
                EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nil, $0.baseAddress, $0.count)
            }) else { throw OpenSSLErrorQueue.error(.keyMalformed, "not an Ed25519 private key") }
            privateKey = try EVPKey(takingOwnershipOf: pointer)
        }
        guard try privateKey.spkiDER() == publicKey.spkiDER() else {
            throw CryptoError(.keyMismatch, "JWK private member 'd' does not belong to its public key")
        }
        return privateKey
    }

    /// This key as a JWK; `includePrivate` adds `d` (only for private keys).
    func jwk(includePrivate: Bool) throws -> JWK {
        switch algorithm {
        case .es256:
            let x = try bigNumberParameter(OSSL_PKEY_PARAM_EC_PUB_X)
            let y = try bigNumberParameter(OSSL_PKEY_PARAM_EC_PUB_Y)
            var jwk = JWK(kty: "EC", crv: "P-256", x: Base64URL.encode(x), y: Base64URL.encode(y))
            if includePrivate { jwk.d = Base64URL.encode(try bigNumberParameter(OSSL_PKEY_PARAM_PRIV_KEY)) }
            return jwk
        case .edDSA:
            var jwk = JWK(kty: "OKP", crv: "Ed25519", x: Base64URL.encode(try rawKey(private: false)))
            if includePrivate { jwk.d = Base64URL.encode(try rawKey(private: true)) }
            return jwk
        }
    }

    private static func coordinate(_ text: String, _ name: String) throws -> [UInt8] {
        let bytes: [UInt8]
        do { bytes = try Base64URL.decode(text) } catch {
            throw CryptoError(.jwkMalformed, "JWK member '\(name)' is not base64url")
        }
        guard bytes.count == 32 else {
            throw CryptoError(.jwkMalformed, "JWK member '\(name)' is \(bytes.count) bytes, expected 32")
        }
        return bytes
    }

    private static func p256PrivateKey(d: [UInt8], publicKey: EVPKey) throws -> EVPKey {
        let point = try publicKey.octetParameter(OSSL_PKEY_PARAM_PUB_KEY)
        guard let builder = OSSL_PARAM_BLD_new() else { throw OpenSSLErrorQueue.error(.openSSL, "OSSL_PARAM_BLD_new failed") }
        defer { OSSL_PARAM_BLD_free(builder) }
        guard let scalar = d.withUnsafeBufferPointer({ BN_bin2bn($0.baseAddress, Int32($0.count), nil) }) else {
            throw OpenSSLErrorQueue.error(.openSSL, "BN_bin2bn failed")
        }
        defer { BN_clear_free(scalar) }
        // OSSL_PARAM_BLD keeps the pointers it is handed until OSSL_PARAM_BLD_to_param copies
        // them, so the whole build happens while the buffers are alive.
        let built: OpaquePointer? = point.withUnsafeBytes { pointBytes in
            "prime256v1".withCString { group in
                let pushed = OSSL_PARAM_BLD_push_utf8_string(builder, COpenSSL_param_group_name(), group, 0) == 1
                    && OSSL_PARAM_BLD_push_octet_string(builder, COpenSSL_param_pub_key(), pointBytes.baseAddress, pointBytes.count) == 1
                    && OSSL_PARAM_BLD_push_BN(builder, COpenSSL_param_priv_key(), scalar) == 1
                guard pushed else { return nil }
                return OSSL_PARAM_BLD_to_param(builder).map { OpaquePointer($0) }
            }
        }
        guard let built else { throw OpenSSLErrorQueue.error(.openSSL, "building EC key parameters failed") }
        let params = UnsafeMutablePointer<OSSL_PARAM>(built)
        defer { OSSL_PARAM_free(params) }
        guard let ctx = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else {
            throw OpenSSLErrorQueue.error(.openSSL, "EVP_PKEY_CTX_new_from_name(EC) failed")
        }
        defer { EVP_PKEY_CTX_free(ctx) }
        var key: OpaquePointer? = nil
        guard EVP_PKEY_fromdata_init(ctx) == 1,
              EVP_PKEY_fromdata(ctx, &key, COpenSSL_EVP_PKEY_KEYPAIR, params) == 1, let key else {
            throw OpenSSLErrorQueue.error(.keyMalformed, "not a P-256 private key")
        }
        let evpKey = try EVPKey(takingOwnershipOf: key)
        try evpKey.checkPair()
        return evpKey
    }

    /// Checks that the private and public halves of a key pair belong together.
    func checkPair() throws {
        guard let ctx = EVP_PKEY_CTX_new_from_pkey(nil, pointer, nil) else {
            throw OpenSSLErrorQueue.error(.openSSL, "EVP_PKEY_CTX_new_from_pkey failed")
        }
        defer { EVP_PKEY_CTX_free(ctx) }
        guard EVP_PKEY_pairwise_check(ctx) == 1 else {
            throw OpenSSLErrorQueue.error(.keyMismatch, "private and public key do not match")
        }
    }

    private func bigNumberParameter(_ name: String) throws -> [UInt8] {
        var bn: OpaquePointer? = nil
        guard EVP_PKEY_get_bn_param(pointer, name, &bn) == 1, let bn else {
            throw OpenSSLErrorQueue.error(.openSSL, "reading key parameter \(name) failed")
        }
        defer { BN_clear_free(bn) }
        var out = [UInt8](repeating: 0, count: 32)
        let written = out.withUnsafeMutableBufferPointer { BN_bn2binpad(bn, $0.baseAddress, 32) }
        guard written == 32 else { throw OpenSSLErrorQueue.error(.openSSL, "key parameter \(name) is wider than 32 bytes") }
        return out
    }

    private func octetParameter(_ name: String) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 133)
        var length = 0
        let ok = out.withUnsafeMutableBufferPointer {
            EVP_PKEY_get_octet_string_param(pointer, name, $0.baseAddress, $0.count, &length)
        }
        guard ok == 1 else { throw OpenSSLErrorQueue.error(.openSSL, "reading key parameter \(name) failed") }
        return Array(out.prefix(length))
    }

    private func rawKey(private isPrivate: Bool) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length = out.count
        let ok = out.withUnsafeMutableBufferPointer {
            isPrivate
                ? EVP_PKEY_get_raw_private_key(pointer, $0.baseAddress, &length)
                : EVP_PKEY_get_raw_public_key(pointer, $0.baseAddress, &length)
        }
        guard ok == 1, length == 32 else { throw OpenSSLErrorQueue.error(.openSSL, "reading the raw Ed25519 key failed") }
        return out
    }
}
