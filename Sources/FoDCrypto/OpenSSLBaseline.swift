import COpenSSL

/// The raw OpenSSL operations that fod's token code wraps, for benchmarks: the reference that
/// issue and verify throughput are compared against in the same run.
///
/// Each operation is exactly what a careful C program does per signature with OpenSSL 3's EVP
/// interface — a fresh `EVP_MD_CTX`, `EVP_DigestSignInit`/`EVP_DigestVerifyInit` with a
/// pre-fetched SHA-256 (or none for Ed25519), one-shot `EVP_DigestSign`/`EVP_DigestVerify` on
/// the message and OpenSSL's native signature encoding (DER for ECDSA) — and nothing else.
public enum OpenSSLBaseline {
    /// Signs `message` `count` times; returns the number of signatures made.
    /// - Throws: ``CryptoError`` if OpenSSL fails.
    public static func sign(_ key: PrivateKey, message: [UInt8], count: Int) throws -> Int {
        guard let evp = key.key else { throw CryptoError(.keyNotExportable, "the baseline signs with a key in memory only") }
        let digest: OpaquePointer? = evp.algorithm == .es256 ? FetchedDigest.sha256.pointer : nil
        var signature = [UInt8](repeating: 0, count: 72)
        return try message.withUnsafeBufferPointer { msg in
            try signature.withUnsafeMutableBufferPointer { out in
                for _ in 0..<count {
                    guard let ctx = EVP_MD_CTX_new() else { throw OpenSSLErrorQueue.error(.openSSL, "EVP_MD_CTX_new failed") }
                    var length = out.count
                    let ok = EVP_DigestSignInit(ctx, nil, digest, nil, evp.pointer) == 1
                        && EVP_DigestSign(ctx, out.baseAddress, &length, msg.baseAddress, msg.count) == 1
                    EVP_MD_CTX_free(ctx)
                    guard ok else { throw OpenSSLErrorQueue.error(.openSSL, "EVP_DigestSign failed") }
                }
                return count
            }
        }
    }

    /// A signature of `message` in OpenSSL's native encoding, for ``verify(_:signature:message:count:)``.
    /// - Throws: ``CryptoError`` if OpenSSL fails.
    public static func nativeSignature(_ key: PrivateKey, message: [UInt8]) throws -> [UInt8] {
        let raw = try key.signature(for: message)
        return key.algorithm == .es256 ? try ECDSASignature.der(fromRaw: raw) : raw
    }

    /// Verifies a native signature `count` times; returns the number of successful verifications.
    /// - Throws: ``CryptoError`` if a verification fails.
    public static func verify(_ key: PublicKey, signature: [UInt8], message: [UInt8], count: Int) throws -> Int {
        let evp = key.key
        let digest: OpaquePointer? = evp.algorithm == .es256 ? FetchedDigest.sha256.pointer : nil
        return try message.withUnsafeBufferPointer { msg in
            try signature.withUnsafeBufferPointer { sig in
                for _ in 0..<count {
                    guard let ctx = EVP_MD_CTX_new() else { throw OpenSSLErrorQueue.error(.openSSL, "EVP_MD_CTX_new failed") }
                    let ok = EVP_DigestVerifyInit(ctx, nil, digest, nil, evp.pointer) == 1
                        && EVP_DigestVerify(ctx, sig.baseAddress, sig.count, msg.baseAddress, msg.count) == 1
                    EVP_MD_CTX_free(ctx)
                    guard ok else { throw OpenSSLErrorQueue.error(.signatureInvalid, "baseline verification failed") }
                }
                return count
            }
        }
    }

    /// The OpenSSL library version, e.g. "OpenSSL 3.0.19 27 Jan 2026".
    public static var version: String { String(cString: OpenSSL_version(OPENSSL_VERSION)) }
}
