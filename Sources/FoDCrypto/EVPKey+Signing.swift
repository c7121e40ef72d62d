import COpenSSL

extension EVPKey {
    /// Signs `message` and returns the JWS-form signature (64 bytes for both algorithms).
    func sign(_ message: UnsafeRawBufferPointer) throws -> [UInt8] {
        guard let ctx = EVP_MD_CTX_new() else { throw OpenSSLErrorQueue.error(.openSSL, "EVP_MD_CTX_new failed") }
        defer { EVP_MD_CTX_free(ctx) }
        let digest: OpaquePointer? = algorithm == .es256 ? FetchedDigest.sha256.pointer : nil
        guard EVP_DigestSignInit(ctx, nil, digest, nil, pointer) == 1 else {
            throw OpenSSLErrorQueue.error(.openSSL, "EVP_DigestSignInit failed")
        }
        // A DER ECDSA P-256 signature is at most 72 bytes; Ed25519 is exactly 64.
        var signature = [UInt8](repeating: 0, count: 72)
        var length = signature.count
        let ok = signature.withUnsafeMutableBufferPointer { out in
            EVP_DigestSign(ctx, out.baseAddress, &length, message.baseAddress?.assumingMemoryBound(to: UInt8.self), message.count)
        }
        guard ok == 1 else { throw OpenSSLErrorQueue.error(.openSSL, "EVP_DigestSign failed") }
        signature.removeLast(signature.count - length)
        switch algorithm {
        case .es256: return try ECDSASignature.raw(fromDER: signature)
        case .edDSA: return signature
        }
    }

    /// Verifies a JWS-form signature; throws `signature_malformed` or `signature_invalid`.
    func verify(signature: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer) throws {
        guard signature.count == algorithm.signatureLength else {
            throw CryptoError(.signatureMalformed, "\(algorithm) signature is \(signature.count) bytes, expected \(algorithm.signatureLength)")
        }
        switch algorithm {
        case .es256:
            let der = try ECDSASignature.der(fromRaw: signature)
            try der.withUnsafeBytes { derBytes in try verifyEncoded(signature: derBytes, message: message) }
        case .edDSA:
            try verifyEncoded(signature: signature, message: message)
        }
    }

    /// Verifies a signature in OpenSSL's own encoding (DER for ECDSA, raw for Ed25519).
    func verifyEncoded(signature: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer) throws {
        guard let ctx = EVP_MD_CTX_new() else { throw OpenSSLErrorQueue.error(.openSSL, "EVP_MD_CTX_new failed") }
        defer { EVP_MD_CTX_free(ctx) }
        let digest: OpaquePointer? = algorithm == .es256 ? FetchedDigest.sha256.pointer : nil
        guard EVP_DigestVerifyInit(ctx, nil, digest, nil, pointer) == 1 else {
            throw OpenSSLErrorQueue.error(.openSSL, "EVP_DigestVerifyInit failed")
        }
        let result = EVP_DigestVerify(
            ctx,
            signature.baseAddress?.assumingMemoryBound(to: UInt8.self), signature.count,
            message.baseAddress?.assumingMemoryBound(to: UInt8.self), message.count)
        guard result == 1 else {
            OpenSSLErrorQueue.clear()
            throw CryptoError(.signatureInvalid, "\(algorithm) signature does not verify")
        }
    }
}
