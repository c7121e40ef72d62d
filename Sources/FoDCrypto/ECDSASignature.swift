import COpenSSL

/// Conversion between JWS's raw `r‖s` ECDSA signatures (IEEE P1363) and the ASN.1 DER
/// `ECDSA-Sig-Value` that OpenSSL signs and verifies.
public enum ECDSASignature {
    /// Byte length of each of `r` and `s` on P-256.
    static let scalarLength = 32

    /// Converts a 64-byte `r‖s` signature to DER.
    /// - Throws: ``CryptoError`` `signature_malformed` when the input is not 64 bytes.
    public static func der(fromRaw raw: [UInt8]) throws -> [UInt8] {
        try raw.withUnsafeBytes { buffer in try der(fromRaw: buffer) }
    }

    static func der(fromRaw raw: UnsafeRawBufferPointer) throws -> [UInt8] {
        guard raw.count == 2 * scalarLength else {
            throw CryptoError(.signatureMalformed, "ES256 signature is \(raw.count) bytes, expected 64")
        }
        guard let sig = ECDSA_SIG_new() else { throw OpenSSLErrorQueue.error(.openSSL, "ECDSA_SIG_new failed") }
        defer { ECDSA_SIG_free(sig) }
        let bytes = raw.bindMemory(to: UInt8.self)
        guard let r = BN_bin2bn(bytes.baseAddress, Int32(scalarLength), nil) else {
            throw OpenSSLErrorQueue.error(.openSSL, "BN_bin2bn failed")
        }
        guard let s = BN_bin2bn(bytes.baseAddress! + scalarLength, Int32(scalarLength), nil) else {
            BN_free(r)
            throw OpenSSLErrorQueue.error(.openSSL, "BN_bin2bn failed")
        }
        guard ECDSA_SIG_set0(sig, r, s) == 1 else {
            BN_free(r); BN_free(s)
            throw OpenSSLErrorQueue.error(.openSSL, "ECDSA_SIG_set0 failed")
        }
        var out: UnsafeMutablePointer<UInt8>? = nil
        let length = i2d_ECDSA_SIG(sig, &out)
        guard length > 0, let der = out else { throw OpenSSLErrorQueue.error(.openSSL, "i2d_ECDSA_SIG failed") }
        defer { COpenSSL_OPENSSL_free(der) }
        return Array(UnsafeBufferPointer(start: der, count: Int(length)))
    }

    /// Converts a DER `ECDSA-Sig-Value` to 64-byte `r‖s`, each half left-padded.
    /// - Throws: ``CryptoError`` `signature_malformed` for trailing bytes, bad DER, or
    ///   values wider than 32 bytes.
    public static func raw(fromDER der: [UInt8]) throws -> [UInt8] {
        try der.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            guard let sig = d2i_ECDSA_SIG(nil, &cursor, buffer.count) else {
                throw OpenSSLErrorQueue.error(.signatureMalformed, "not a DER ECDSA signature")
            }
            defer { ECDSA_SIG_free(sig) }
            guard let end = cursor, end == buffer.baseAddress! + buffer.count else {
                throw CryptoError(.signatureMalformed, "trailing bytes after DER ECDSA signature")
            }
            var r: OpaquePointer? = nil
            var s: OpaquePointer? = nil
            ECDSA_SIG_get0(sig, &r, &s)
            var out = [UInt8](repeating: 0, count: 2 * scalarLength)
            let ok = out.withUnsafeMutableBufferPointer { buf -> Bool in
                BN_bn2binpad(r, buf.baseAddress, Int32(scalarLength)) == Int32(scalarLength)
                    && BN_bn2binpad(s, buf.baseAddress! + scalarLength, Int32(scalarLength)) == Int32(scalarLength)
            }
            guard ok else {
                OpenSSLErrorQueue.clear()
                throw CryptoError(.signatureMalformed, "r or s is wider than 32 bytes")
            }
            return out
        }
    }
}
