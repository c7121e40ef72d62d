import COpenSSL

extension EVPKey {
    /// Parses a PEM private key (PKCS#8, or the traditional EC form). The passphrase callback
    /// refuses: encrypted PEM is not supported, and OpenSSL's default callback would prompt
    /// on the terminal.
    static func privateKey(pem: String) throws -> EVPKey {
        let pointer: OpaquePointer? = withMemoryBIO(pem) { PEM_read_bio_PrivateKey($0, nil, { _, _, _, _ in -1 }, nil) }
        guard let pointer else { throw OpenSSLErrorQueue.error(.keyMalformed, "not a PEM private key") }
        return try EVPKey(takingOwnershipOf: pointer)
    }

    /// Parses a PEM public key (SubjectPublicKeyInfo).
    static func publicKey(pem: String) throws -> EVPKey {
        let pointer: OpaquePointer? = withMemoryBIO(pem) { PEM_read_bio_PUBKEY($0, nil, { _, _, _, _ in -1 }, nil) }
        guard let pointer else { throw OpenSSLErrorQueue.error(.keyMalformed, "not a PEM public key") }
        return try EVPKey(takingOwnershipOf: pointer)
    }

    /// Parses a DER SubjectPublicKeyInfo, requiring every byte to be consumed.
    static func publicKey(spki: [UInt8]) throws -> EVPKey {
        try spki.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            guard let pointer = d2i_PUBKEY(nil, &cursor, buffer.count) else {
                throw OpenSSLErrorQueue.error(.keyMalformed, "not a DER SubjectPublicKeyInfo")
            }
            guard cursor == buffer.baseAddress! + buffer.count else {
                EVP_PKEY_free(pointer)
                throw CryptoError(.keyMalformed, "trailing bytes after SubjectPublicKeyInfo")
            }
            return try EVPKey(takingOwnershipOf: pointer)
        }
    }

    /// The DER SubjectPublicKeyInfo of this key's public half.
    func spkiDER() throws -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>? = nil
        let length = i2d_PUBKEY(pointer, &out)
        guard length > 0, let der = out else { throw OpenSSLErrorQueue.error(.openSSL, "i2d_PUBKEY failed") }
        defer { COpenSSL_OPENSSL_free(der) }
        return Array(UnsafeBufferPointer(start: der, count: Int(length)))
    }

    /// A new key holding only this key's public half.
    func publicOnly() throws -> EVPKey {
        try EVPKey.publicKey(spki: spkiDER())
    }

    /// PEM text of the private key as unencrypted PKCS#8.
    func privatePEM() throws -> String {
        try writeMemoryBIO { PEM_write_bio_PrivateKey($0, pointer, nil, nil, 0, nil, nil) }
    }

    /// PEM text of the public key as SubjectPublicKeyInfo.
    func publicPEM() throws -> String {
        try writeMemoryBIO { PEM_write_bio_PUBKEY($0, pointer) }
    }

    private static func withMemoryBIO<T>(_ text: String, _ body: (OpaquePointer) -> T?) -> T? {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { raw -> T? in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            return body(bio)
        }
    }

    private func writeMemoryBIO(_ body: (OpaquePointer) -> Int32) throws -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { throw OpenSSLErrorQueue.error(.openSSL, "BIO_new failed") }
        defer { BIO_free(bio) }
        guard body(bio) == 1 else { throw OpenSSLErrorQueue.error(.openSSL, "PEM write failed") }
        var data: UnsafeMutablePointer<CChar>? = nil
        let length = COpenSSL_BIO_get_mem_data(bio, &data)
        guard length > 0, let data else { throw OpenSSLErrorQueue.error(.openSSL, "empty PEM output") }
        return String(decoding: UnsafeRawBufferPointer(start: data, count: Int(length)), as: UTF8.self)
    }
}
