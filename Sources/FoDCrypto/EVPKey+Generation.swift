import COpenSSL

extension EVPKey {
    /// Generates a fresh key pair for `algorithm` from OpenSSL's CSPRNG.
    static func generate(_ algorithm: SigningAlgorithm) throws -> EVPKey {
        let name = algorithm == .es256 ? "EC" : "ED25519"
        guard let ctx = EVP_PKEY_CTX_new_from_name(nil, name, nil) else {
            throw OpenSSLErrorQueue.error(.openSSL, "EVP_PKEY_CTX_new_from_name(\(name)) failed")
        }
        defer { EVP_PKEY_CTX_free(ctx) }
        guard EVP_PKEY_keygen_init(ctx) == 1 else { throw OpenSSLErrorQueue.error(.openSSL, "EVP_PKEY_keygen_init failed") }
        if algorithm == .es256 {
            guard COpenSSL_EVP_PKEY_CTX_set_group_name(ctx, "P-256") == 1 else {
                throw OpenSSLErrorQueue.error(.openSSL, "setting the P-256 group failed")
            }
        }
        var key: OpaquePointer? = nil
        guard EVP_PKEY_generate(ctx, &key) == 1, let key else {
            throw OpenSSLErrorQueue.error(.openSSL, "EVP_PKEY_generate failed")
        }
        return try EVPKey(takingOwnershipOf: key)
    }
}
