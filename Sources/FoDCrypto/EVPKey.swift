import COpenSSL

/// Owns one `EVP_PKEY` and frees it on deinit.
///
/// `@unchecked Sendable`: the key is never mutated after init, and OpenSSL 3 allows
/// concurrent sign/verify operations on one `EVP_PKEY`, each with its own context.
final class EVPKey: @unchecked Sendable {
    let pointer: OpaquePointer
    let algorithm: SigningAlgorithm

    /// Takes ownership of `pointer`, which must be a P-256 or Ed25519 key; frees it and
    /// throws otherwise.
    init(takingOwnershipOf pointer: OpaquePointer) throws {
        self.pointer = pointer
        switch EVP_PKEY_get_base_id(pointer) {
        case EVP_PKEY_ED25519:
            algorithm = .edDSA
        case EVP_PKEY_EC:
            var name = [CChar](repeating: 0, count: 64)
            var length = 0
            let ok = EVP_PKEY_get_utf8_string_param(
                pointer, OSSL_PKEY_PARAM_GROUP_NAME, &name, name.count, &length)
            let group = ok == 1 ? name.withUnsafeBufferPointer { String(cString: $0.baseAddress!) } : ""
            guard group == "prime256v1" || group == "P-256" else {
                OpenSSLErrorQueue.clear()
                EVP_PKEY_free(pointer)
                throw CryptoError(.keyUnsupported, "EC key on curve '\(group)'; only P-256 is supported")
            }
            algorithm = .es256
        default:
            EVP_PKEY_free(pointer)
            throw CryptoError(.keyUnsupported, "key type is neither P-256 nor Ed25519")
        }
    }

    deinit {
        EVP_PKEY_free(pointer)
    }
}

/// The SHA-256 implementation fetched once from the default provider.
///
/// `@unchecked Sendable`: a fetched `EVP_MD` is immutable and meant to be shared between
/// threads; fetching it once avoids OpenSSL 3's per-call implicit fetch.
final class FetchedDigest: @unchecked Sendable {
    let pointer: OpaquePointer

    private init(name: String) {
        guard let md = EVP_MD_fetch(nil, name, nil) else {
            fatalError("OpenSSL has no \(name) implementation: \(OpenSSLErrorQueue.drain())")
        }
        pointer = md
    }

    deinit { EVP_MD_free(pointer) }

    static let sha256 = FetchedDigest(name: "SHA256")
}
