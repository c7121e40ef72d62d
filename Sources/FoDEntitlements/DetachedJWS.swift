import FoDCrypto

/// A JWS with a detached payload (RFC 7515 Appendix F): `BASE64URL(header)..BASE64URL(signature)`,
/// the payload being a file kept beside it — a closed period's statement. The header is exactly
/// `alg`, `kid` and `typ` `fod-statement+jws`.
public enum DetachedJWS {
    /// The `typ` of a signed statement.
    public static let statementType = "fod-statement+jws"

    /// Signs `payload` with `key`, named by `keyID`.
    /// - Throws: ``EntitlementError`` `signing_failed`.
    public static func sign(_ payload: [UInt8], key: PrivateKey, keyID: String) throws -> String {
        var writer = JSONWriter(capacity: 128)
        writer.raw("{\"alg\":"); writer.string(key.algorithm.jwsName)
        writer.raw(",\"kid\":"); writer.string(keyID)
        writer.raw(",\"typ\":"); writer.string(statementType)
        writer.raw("}")
        let header = Base64URL.encodeBytes(writer.bytes)
        let compact = try CompactJWS.sign(encodedHeader: header, payload: payload, key: key)
        let parts = compact.split(separator: ".", omittingEmptySubsequences: false)
        return parts[0] + ".." + parts[2]
    }

    /// Checks a detached signature over `payload` with the keys of a JWKS: the header's rules,
    /// the key by `kid` (not revoked, of the header's algorithm), the signature. A key's validity
    /// period is not applied: a statement signed while its key was in use stays checkable.
    /// - Returns: the key id that signed.
    /// - Throws: ``EntitlementError`` `token_malformed`, `header_*`, `typ_mismatch`, `key_unknown`,
    ///   `key_revoked`, `key_alg_mismatch`, `signature_length`, `signature_invalid`.
    public static func verify(_ jws: String, payload: [UInt8], keys: KeySet) throws -> String {
        let parts = jws.trimmingSuffix().split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[1].isEmpty, !parts[0].isEmpty, !parts[2].isEmpty else {
            throw EntitlementError(.tokenMalformed, "a detached JWS is header..signature (an empty middle segment)")
        }
        var signingInput = Array(parts[0].utf8)
        signingInput.append(UInt8(ascii: "."))
        Base64URL.append(payload, to: &signingInput)
        let headerBytes: [UInt8]
        let signature: [UInt8]
        do {
            headerBytes = try Base64URL.decode(String(parts[0]))
            signature = try Base64URL.decode(String(parts[2]))
        } catch { throw EntitlementError(.tokenBase64, "a segment is not canonical unpadded base64url") }
        let header = try JWSHeader(bytes: headerBytes, expectedType: nil, requireKeyID: true)
        guard header.type == statementType else {
            throw EntitlementError(.typMismatch, "typ is \(header.type.map { "\"\($0.prefix(40))\"" } ?? "missing"); expected \"\(statementType)\"")
        }
        guard let kid = header.keyID, let trusted = keys.key(id: kid) else {
            throw EntitlementError(.keyUnknown, "no key of the key set has kid \"\((header.keyID ?? "").prefix(64))\"")
        }
        if trusted.revoked { throw EntitlementError(.keyRevoked, "key \(kid) is revoked") }
        guard trusted.publicKey.algorithm == header.algorithm else {
            throw EntitlementError(.keyAlgMismatch, "the header says \(header.algorithm) but key \(kid) is \(trusted.publicKey.algorithm)")
        }
        guard signature.count == header.algorithm.signatureLength else {
            throw EntitlementError(.signatureLength, "the signature is \(signature.count) bytes; \(header.algorithm) signatures are 64")
        }
        do { try trusted.publicKey.verify(signature: signature, for: signingInput) } catch {
            throw EntitlementError(.signatureInvalid, "the signature does not verify with key \(kid): the statement or its signature was changed")
        }
        return kid
    }
}

extension String {
    /// Without trailing white space (a signature file's final newline).
    fileprivate func trimmingSuffix() -> Substring {
        var end = endIndex
        while end > startIndex, let last = self[..<end].last, last.isWhitespace { end = index(before: end) }
        return self[..<end]
    }
}
