import COpenSSL
import FoDCore

/// An RSA public key, for one use: checking RS256 signatures (RSASSA-PKCS1-v1_5 with SHA-256,
/// RFC 7518 §3.3) of what others sign — an identity provider's ID tokens. fod never signs with
/// RSA, and its own tokens never accept it (their `alg` is ES256 or EdDSA).
public final class RSAPublicKey: @unchecked Sendable {
    /// The smallest modulus accepted (RFC 7518 §3.3: 2048 bits or larger).
    public static let minimumBits = 2048
    /// The largest modulus accepted (a bound on the work a key can ask for).
    public static let maximumBits = 8192

    private let pointer: OpaquePointer
    /// The modulus size in bits.
    public let bits: Int

    /// The key of a JWK's `n` and `e` (base64url, big-endian, RFC 7518 §6.3.1).
    /// - Throws: ``CryptoError`` `jwk_malformed` (not base64url, a leading zero byte), `key_unsupported`
    ///   (a modulus outside 2048–8192 bits, an even or too small exponent).
    public init(n: String, e: String) throws {
        let modulus: [UInt8], exponent: [UInt8]
        do {
            modulus = try Base64URL.decode(n)
            exponent = try Base64URL.decode(e)
        } catch {
            throw CryptoError(.jwkMalformed, "an RSA JWK's n and e are base64url")
        }
        guard let first = modulus.first, first != 0, let lead = exponent.first, lead != 0 else {
            throw CryptoError(.jwkMalformed, "an RSA JWK's n and e are unsigned big-endian without leading zero bytes")
        }
        let bits = modulus.count * 8 - first.leadingZeroBitCount
        guard (RSAPublicKey.minimumBits...RSAPublicKey.maximumBits).contains(bits) else {
            throw CryptoError(.keyUnsupported, "an RSA key of \(bits) bits; 2048 to 8192 are accepted")
        }
        guard exponent.count <= 8, exponent.last! & 1 == 1, exponent.reduce(UInt64(0), { $0 << 8 | UInt64($1) }) >= 3 else {
            throw CryptoError(.keyUnsupported, "an RSA public exponent is odd, at least 3 and at most 64 bits")
        }
        guard let builder = OSSL_PARAM_BLD_new() else { throw OpenSSLErrorQueue.error(.openSSL, "OSSL_PARAM_BLD_new failed") }
        defer { OSSL_PARAM_BLD_free(builder) }
        let n = modulus.withUnsafeBufferPointer { BN_bin2bn($0.baseAddress, Int32($0.count), nil) }
        let e = exponent.withUnsafeBufferPointer { BN_bin2bn($0.baseAddress, Int32($0.count), nil) }
        defer {
            BN_free(n)
            BN_free(e)
        }
        guard let n, let e, OSSL_PARAM_BLD_push_BN(builder, COpenSSL_param_rsa_n(), n) == 1,
              OSSL_PARAM_BLD_push_BN(builder, COpenSSL_param_rsa_e(), e) == 1,
              let params = OSSL_PARAM_BLD_to_param(builder) else {
            throw OpenSSLErrorQueue.error(.openSSL, "building RSA key parameters failed")
        }
        defer { OSSL_PARAM_free(params) }
        guard let ctx = EVP_PKEY_CTX_new_from_name(nil, "RSA", nil) else {
            throw OpenSSLErrorQueue.error(.openSSL, "EVP_PKEY_CTX_new_from_name(RSA) failed")
        }
        defer { EVP_PKEY_CTX_free(ctx) }
        var key: OpaquePointer? = nil
        guard EVP_PKEY_fromdata_init(ctx) == 1, EVP_PKEY_fromdata(ctx, &key, COpenSSL_EVP_PKEY_PUBLIC_KEY, params) == 1, let key else {
            throw OpenSSLErrorQueue.error(.keyMalformed, "not an RSA public key")
        }
        self.pointer = key
        self.bits = bits
    }

    deinit { EVP_PKEY_free(pointer) }

    /// Whether `signature` is this key's RS256 signature of `message`.
    public func verifyRS256(signature: [UInt8], message: some Collection<UInt8>) -> Bool {
        guard signature.count == (bits + 7) / 8, let ctx = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(ctx) }
        var keyContext: OpaquePointer? = nil
        guard EVP_DigestVerifyInit(ctx, &keyContext, FetchedDigest.sha256.pointer, nil, pointer) == 1,
              COpenSSL_EVP_PKEY_CTX_set_rsa_pkcs1_padding(keyContext) == 1 else {
            OpenSSLErrorQueue.clear()
            return false
        }
        let bytes = Array(message)
        let result = signature.withUnsafeBufferPointer { sig in
            bytes.withUnsafeBufferPointer { msg in EVP_DigestVerify(ctx, sig.baseAddress, sig.count, msg.baseAddress, msg.count) }
        }
        if result != 1 { OpenSSLErrorQueue.clear() }
        return result == 1
    }
}
