import FoDCrypto
import FoDEntitlements
import HTTPTypes

/// What an ID token says about the person who signed in.
struct IDTokenClaims: Sendable, Equatable {
    /// `sub`: the person's stable id at the provider.
    let subject: String
    /// `name` (else `preferred_username`, else `email`), for people to read.
    let name: String?
    /// `email`.
    let email: String?
    /// The values of the roles claim (`--oidc-roles-claim`, by default `groups`).
    let groups: [String]
    /// `exp`, Unix seconds.
    let expiresAt: Int64
}

/// Verifies an OpenID Connect ID token (OpenID Connect Core 1.0 §3.1.3.7) with fod's own JWS
/// checks: the signature by a key of the provider's JWKS (RS256, ES256, EdDSA; `none` and HMAC are
/// refused), `iss` exactly the configured issuer, `aud` naming this client (and `azp` this client
/// when there are several audiences), `exp` not passed, `iat` not in the future, and `nonce` the one
/// this sign-in sent. Each failure has its code; the person is not signed in.
struct IDTokenVerifier: Sendable {
    let issuer: String
    let clientID: String
    let keys: OIDCKeys
    /// The claim the roles come from.
    let rolesClaim: String
    /// Clock skew allowed, seconds.
    var leeway: Int64 = 60

    static let maxLength = 16 * 1024

    private func fail(_ code: String, _ reason: String) -> APIError { APIError(.unauthorized, code, "the sign-in's ID token: \(reason)") }

    /// - Throws: ``APIError`` 401 `oidc_token_malformed`, `oidc_alg_not_allowed`, `oidc_key_unknown`,
    ///   `oidc_signature_invalid`, `oidc_issuer_mismatch`, `oidc_audience_mismatch`, `oidc_expired`,
    ///   `oidc_issued_in_future`, `oidc_nonce_mismatch`.
    func verify(_ token: String, nonce: String, now: Int64) throws -> IDTokenClaims {
        let jws: CompactJWS
        do { jws = try CompactJWS(token, maxLength: IDTokenVerifier.maxLength) } catch { throw fail("oidc_token_malformed", "not a compact JWS") }
        guard case .object(let header)? = try? JSONParser.parse(jws.headerBytes) else { throw fail("oidc_token_malformed", "the header is not a JSON object") }
        guard header["crit"] == nil else { throw fail("oidc_token_malformed", "the header has crit") }
        guard let alg = header["alg"]?.string, ["RS256", "ES256", "EdDSA"].contains(alg) else {
            throw fail("oidc_alg_not_allowed", "alg \(header["alg"]?.string?.prefix(20) ?? "missing") is not RS256, ES256 or EdDSA")
        }
        guard let key = keys.key(kid: header["kid"]?.string, algorithm: alg) else {
            throw fail("oidc_key_unknown", "no key of the provider has kid \(header["kid"]?.string?.prefix(64) ?? "(none)") for \(alg)")
        }
        let valid: Bool
        switch key {
        case .rsa(let rsa): valid = rsa.verifyRS256(signature: jws.signature, message: jws.signingInput)
        case .jose(let jose):
            valid = (try? jws.signature.withUnsafeBytes { signature in
                try jws.signingInput.withUnsafeBytes { try jose.verify(signature: signature, for: $0) }
            }) != nil
        }
        guard valid else { throw fail("oidc_signature_invalid", "the signature does not verify with the provider's key") }
        guard case .object(let claims)? = try? JSONParser.parse(jws.payload) else { throw fail("oidc_token_malformed", "the payload is not a JSON object") }
        guard claims["iss"]?.string == issuer else {
            throw fail("oidc_issuer_mismatch", "issued by \(claims["iss"]?.string?.prefix(100) ?? "(none)"), not \(issuer)")
        }
        let audiences: [String]
        if let one = claims["aud"]?.string { audiences = [one] } else { audiences = claims["aud"]?.elements?.compactMap(\.string) ?? [] }
        guard audiences.contains(clientID) else { throw fail("oidc_audience_mismatch", "not issued for this client") }
        if audiences.count > 1, claims["azp"]?.string != clientID {
            throw fail("oidc_audience_mismatch", "several audiences, and azp is not this client")
        }
        guard let exp = claims["exp"]?.int64, let iat = claims["iat"]?.int64 else { throw fail("oidc_token_malformed", "exp and iat are required integers") }
        guard now < exp + leeway else { throw fail("oidc_expired", "it expired at \(exp); it is now \(now)") }
        guard iat <= now + leeway else { throw fail("oidc_issued_in_future", "issued at \(iat); it is now \(now)") }
        guard let presented = claims["nonce"]?.string, HMACSHA256.equal(Array(presented.utf8), Array(nonce.utf8)) else {
            throw fail("oidc_nonce_mismatch", "its nonce is not the one this sign-in sent")
        }
        guard let subject = claims["sub"]?.string, !subject.isEmpty, subject.utf8.count <= 255 else {
            throw fail("oidc_token_malformed", "sub is required (1 to 255 bytes)")
        }
        let groups: [String]
        if let list = claims[rolesClaim]?.elements { groups = list.compactMap(\.string) } else { groups = claims[rolesClaim]?.string.map { [$0] } ?? [] }
        let name = claims["name"]?.string ?? claims["preferred_username"]?.string ?? claims["email"]?.string
        return IDTokenClaims(subject: subject, name: name.map { String($0.prefix(200)) }, email: claims["email"]?.string.map { String($0.prefix(320)) },
                             groups: groups, expiresAt: exp)
    }
}
