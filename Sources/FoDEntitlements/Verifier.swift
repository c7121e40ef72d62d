import FoDCrypto

/// Verifies entitlement tokens and vehicle manifests offline, following the verification
/// procedure of `docs/token-format.md` step by step; each failure is its own error code.
public struct Verifier: Sendable {
    /// The trusted keys.
    public let keys: KeySet
    /// The issuer every token must name.
    public let issuer: IssuerID
    /// Allowed clock skew, in seconds (default 60).
    public let leeway: Int64
    /// Longest entitlement token accepted, in bytes (default 8 KiB).
    public let maxTokenLength: Int
    /// Longest manifest accepted, in bytes (default 64 KiB: a manifest lists many entitlements).
    public let maxManifestLength: Int
    private let clock: any WallClock
    private let revocations: (any RevocationSource)?

    /// Creates a verifier.
    public init(keys: KeySet, issuer: IssuerID, clock: any WallClock = SystemClock(), leeway: Int64 = 60,
                maxTokenLength: Int = CompactJWS.defaultMaxLength, maxManifestLength: Int = 64 * 1024,
                revocations: (any RevocationSource)? = nil) {
        self.keys = keys
        self.issuer = issuer
        self.clock = clock
        self.leeway = leeway
        self.maxTokenLength = maxTokenLength
        self.maxManifestLength = maxManifestLength
        self.revocations = revocations
    }

    /// Verifies an entitlement token.
    /// - Parameters:
    ///   - token: the compact JWS.
    ///   - vin: when given, the token's `sub` must be this vehicle.
    /// - Returns: the verified claims.
    /// - Throws: ``EntitlementError`` with the code of the first failing step.
    public func verifyEntitlement(_ token: String, vin: VIN? = nil) throws -> EntitlementClaims {
        let now = clock.unixSeconds()
        let claims = try withVerifiedSignature(token, type: .entitlement, maxLength: maxTokenLength, now: now) { _, payload, _ in
            try payload.withUnsafeBytes { bytes in
                try EntitlementClaims.decodeFast(bytes) ?? EntitlementClaims(json: Verifier.claimsObject(payload))
            }
        }
        try checkIssuerAndSubject(claims.issuer, claims.vin, expected: vin)
        if claims.notBefore > now + leeway {
            throw EntitlementError(.notYetValid, "the entitlement is valid from \(claims.notBefore); it is now \(now)")
        }
        if let end = claims.expiresAt, end <= now - leeway {
            throw EntitlementError(.expired, "the entitlement expired at \(end); it is now \(now)")
        }
        if claims.issuedAt > now + leeway {
            throw EntitlementError(.issuedInFuture, "the entitlement claims to be issued at \(claims.issuedAt); it is now \(now)")
        }
        if let revocations, try revocations.isRevoked(claims.id) {
            throw EntitlementError(.revoked, "entitlement \(claims.id) is revoked")
        }
        return claims
    }

    /// Verifies a vehicle manifest for `vin`.
    /// - Parameters:
    ///   - lastAcceptedVersion: the `ver` of the manifest the vehicle holds; the new one must be greater.
    /// - Returns: the verified manifest claims.
    /// - Throws: ``EntitlementError`` with the code of the first failing step, `manifest_rollback`
    ///   for a version that is not newer.
    public func verifyManifest(_ token: String, vin: VIN, lastAcceptedVersion: Int64?) throws -> ManifestClaims {
        let now = clock.unixSeconds()
        let (_, payload) = try verifySignature(token, type: .manifest, maxLength: maxManifestLength, now: now)
        let manifest = try ManifestClaims(json: Verifier.claimsObject(payload))
        try checkIssuerAndSubject(manifest.issuer, manifest.vin, expected: vin)
        if manifest.expiresAt <= now - leeway {
            throw EntitlementError(.expired, "the manifest expired at \(manifest.expiresAt); it is now \(now)")
        }
        if manifest.issuedAt > now + leeway {
            throw EntitlementError(.issuedInFuture, "the manifest claims to be issued at \(manifest.issuedAt); it is now \(now)")
        }
        if let lastAcceptedVersion, manifest.version <= lastAcceptedVersion {
            throw EntitlementError(.manifestRollback, "manifest version \(manifest.version) is not newer than the accepted version \(lastAcceptedVersion)")
        }
        return manifest
    }

    /// Verifies an attested-time token answering `nonce` (steps 1–5 with `typ` `fod-time+jwt` and
    /// a key whose scope includes time, then its claims and issuer). Its time is not checked
    /// against any clock: it is the clock.
    /// - Throws: ``EntitlementError`` with the code of the first failing step, `time_nonce_mismatch`.
    public func verifyTime(_ token: String, nonce: String) throws -> TimeClaims {
        // The key's window is checked at the time the token attests, not at the verifier's clock:
        // a vehicle asks for time because its own estimate may be far behind (stored for months,
        // across a rotation whose new key's `nbf` is later than that estimate). A key past its
        // window can then only attest a time inside it — before its end, so never a time later
        // than one a vehicle that saw the rotation has accepted (`time_rollback`).
        let claims = try withVerifiedSignature(token, type: .time, maxLength: maxTokenLength, now: nil) { _, payload, key in
            let claims = try TimeClaims(json: Verifier.claimsObject(payload))
            try key.checkUsable(at: claims.time)
            return claims
        }
        guard claims.issuer == issuer else {
            throw EntitlementError(.issuerMismatch, "issued by \"\(claims.issuer.value.prefix(80))\", expected \"\(issuer.value)\"")
        }
        guard claims.nonce == nonce else { throw EntitlementError(.timeNonceMismatch, "the time token answers another nonce") }
        return claims
    }

    /// Checks only the JWS layer (steps 1–5): segments, base64url, header rules, key and
    /// signature, for interoperability work. `typ` may be absent; `kid` may be absent only when
    /// the key set holds exactly one key.
    /// - Returns: the header and the payload bytes.
    /// - Throws: ``EntitlementError`` with the code of the first failing step.
    public func verifyJWS(_ token: String) throws -> (header: JWSHeader, payload: [UInt8]) {
        try verifySignature(token, type: nil, maxLength: max(maxTokenLength, maxManifestLength), now: clock.unixSeconds())
    }

    /// Steps 1 to 5 on the token's own bytes (the signing input is not copied), then `body`
    /// with the header, the decoded payload and the key that verified it. The key's window is
    /// checked at `now`; with `nil`, `body` checks it.
    private func withVerifiedSignature<T>(_ token: String, type: TokenType?, maxLength: Int, now: Int64?,
                                          _ body: (JWSHeader, _ payload: [UInt8], TrustedKey) throws -> T) throws -> T {
        var token = token
        return try token.withUTF8 { utf8 in
            let segments = try CompactJWS.Segments(UnsafeRawBufferPointer(utf8), maxLength: maxLength)
            let header: JWSHeader
            let trusted: TrustedKey
            let signature: [UInt8]
            let payload: [UInt8]
            if let type, let known = keys.knownHeader(segments.header), known.type == type {
                // Byte-identical to a header fod writes for a trusted key: steps 2 and 3 hold for it.
                payload = try segments.decodePayload()
                signature = try segments.decodeSignature()
                header = known.header
                trusted = known.key
            } else {
                let headerBytes = try segments.decodeHeader()
                payload = try segments.decodePayload()
                signature = try segments.decodeSignature()
                header = try JWSHeader(bytes: headerBytes, expectedType: type, requireKeyID: type != nil || keys.count != 1)
                if let kid = header.keyID {
                    guard let key = keys.key(id: kid) else {
                        throw EntitlementError(.keyUnknown, "no trusted key has kid \"\(kid.prefix(64))\"")
                    }
                    trusted = key
                } else {
                    trusted = keys.keys[0]
                }
            }
            guard trusted.publicKey.algorithm == header.algorithm else {
                throw EntitlementError(.keyAlgMismatch, "the header says \(header.algorithm) but key \(trusted.keyID) is \(trusted.publicKey.algorithm)")
            }
            if let type, !trusted.mayUse(for: type) {
                throw EntitlementError(.keyScope, "key \(trusted.keyID) may not sign \(type.rawValue) tokens")
            }
            if let now { try trusted.checkUsable(at: now) }
            guard signature.count == header.algorithm.signatureLength else {
                throw EntitlementError(.signatureLength, "the signature is \(signature.count) bytes; \(header.algorithm) signatures are 64")
            }
            do {
                try signature.withUnsafeBytes { try trusted.publicKey.verify(signature: $0, for: segments.signingInput) }
            } catch {
                throw EntitlementError(.signatureInvalid, "the signature does not verify with key \(trusted.keyID)")
            }
            return try body(header, payload, trusted)
        }
    }

    private func verifySignature(_ token: String, type: TokenType?, maxLength: Int, now: Int64) throws -> (header: JWSHeader, payload: [UInt8]) {
        try withVerifiedSignature(token, type: type, maxLength: maxLength, now: now) { header, payload, _ in (header, payload) }
    }

    private func checkIssuerAndSubject(_ actual: IssuerID, _ subject: VIN, expected vin: VIN?) throws {
        guard actual == issuer else {
            throw EntitlementError(.issuerMismatch, "issued by \"\(actual.value.prefix(80))\", expected \"\(issuer.value)\"")
        }
        if let vin, subject != vin {
            throw EntitlementError(.vinMismatch, "the token is for \(subject), not \(vin)")
        }
    }

    /// Parses the payload as a JSON object (step 6, structure).
    static func claimsObject(_ payload: [UInt8]) throws -> JSONObject {
        do {
            guard case .object(let object) = try JSONParser.parse(payload) else {
                throw EntitlementError(.claimsMalformed, "the payload is not a JSON object")
            }
            return object
        } catch let error as EntitlementError where error.code == .jsonDuplicateMember {
            throw EntitlementError(.claimsDuplicate, "the payload has a duplicate claim: \(error.reason)")
        } catch let error as EntitlementError where error.code == .jsonMalformed {
            throw EntitlementError(.claimsMalformed, "the payload is not valid JSON: \(error.reason)")
        }
    }
}
