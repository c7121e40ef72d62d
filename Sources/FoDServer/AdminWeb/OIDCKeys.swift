import FoDCrypto
import FoDEntitlements
import HTTPTypes

/// An OpenID Connect provider's signing keys, from its JWKS (`jwks_uri`): RSA keys for RS256,
/// P-256 for ES256, Ed25519 for EdDSA. Keys for encryption (`use: enc`) and of other types are
/// left out; a key without `kid` is found only when it is the one usable key.
struct OIDCKeys: Sendable {
    enum Key: Sendable {
        case rsa(RSAPublicKey)
        case jose(PublicKey)

        /// The JWS `alg` this key verifies.
        var algorithm: String {
            switch self {
            case .rsa: "RS256"
            case .jose(let key): key.algorithm.jwsName
            }
        }
    }

    let keys: [(kid: String?, key: Key)]

    /// - Throws: ``APIError`` 502 `oidc_provider_invalid` for a document that is not a JWK Set.
    init(jwks bytes: [UInt8]) throws {
        func fail(_ reason: String) -> APIError { APIError(.badGateway, "oidc_provider_invalid", "the identity provider's keys: \(reason)") }
        let root: JSONValue
        do { root = try JSONParser.parse(bytes) } catch { throw fail("not JSON") }
        guard case .object(let object) = root, let list = object["keys"]?.elements else { throw fail("not a JWK Set") }
        var keys: [(String?, Key)] = []
        for element in list {
            guard case .object(let jwk) = element else { continue }
            if let use = jwk["use"]?.string, use != "sig" { continue }
            let kid = jwk["kid"]?.string
            switch (jwk["kty"]?.string, jwk["alg"]?.string) {
            case ("RSA", nil), ("RSA", "RS256"?):
                guard let n = jwk["n"]?.string, let e = jwk["e"]?.string, let key = try? RSAPublicKey(n: n, e: e) else { continue }
                keys.append((kid, .rsa(key)))
            case ("EC", _), ("OKP", _):
                guard let crv = jwk["crv"]?.string, let x = jwk["x"]?.string,
                      let key = try? PublicKey(jwk: JWK(kty: jwk["kty"]?.string ?? "", crv: crv, x: x, y: jwk["y"]?.string)) else { continue }
                if let alg = jwk["alg"]?.string, alg != key.algorithm.jwsName { continue }
                keys.append((kid, .jose(key)))
            default:
                continue
            }
        }
        guard !keys.isEmpty else { throw fail("no signing key fod can use (RS256, ES256, EdDSA)") }
        self.keys = keys
    }

    /// The key a token's header names.
    func key(kid: String?, algorithm: String) -> Key? {
        let candidates = keys.filter { $0.key.algorithm == algorithm }
        if let kid { return candidates.first { $0.kid == kid }?.key }
        return candidates.count == 1 ? candidates[0].key : nil
    }
}
