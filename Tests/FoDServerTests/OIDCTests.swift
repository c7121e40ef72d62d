import FoDCrypto
@testable import FoDServer
import FoDStore
import HTTPTypes
import FoDTestSupport
import Foundation
import Testing

/// ID tokens as an identity provider signs them, made by Python's `cryptography` (not fod):
/// RS256 and ES256, and each way a token must be refused.
@Suite("OpenID Connect ID tokens")
struct OIDCTests {
    static let issuer = "https://idp.test"
    static let client = "fod-admin"
    static let now: Int64 = 1_800_000_000

    /// The provider's JWKS and tokens by name, from Python.
    static func provider() throws -> (jwks: [UInt8], tokens: [String: String]) {
        let script = #"""
        import base64, json, sys
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
        ISS, AUD, NOW = "https://idp.test", "fod-admin", 1800000000
        b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
        num = lambda n: b64(n.to_bytes((n.bit_length() + 7) // 8, "big"))
        rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
        ec_key = ec.generate_private_key(ec.SECP256R1())
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pub = rsa_key.public_key().public_numbers()
        ecp = ec_key.public_key().public_numbers()
        jwks = {"keys": [
            {"kty": "RSA", "kid": "r1", "alg": "RS256", "use": "sig", "n": num(pub.n), "e": num(pub.e)},
            {"kty": "RSA", "kid": "small", "use": "sig", "n": num(small.public_key().public_numbers().n), "e": "AQAB"},
            {"kty": "EC", "kid": "e1", "crv": "P-256", "x": b64(ecp.x.to_bytes(32, "big")), "y": b64(ecp.y.to_bytes(32, "big"))},
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": num(pub.n), "e": num(pub.e)},
        ]}
        def sign(claims, kid="r1", alg="RS256", key=rsa_key, header=None):
            h = b64(json.dumps(header or {"alg": alg, "kid": kid, "typ": "JWT"}).encode())
            p = b64(json.dumps(claims).encode())
            data = f"{h}.{p}".encode()
            if alg == "RS256":
                sig = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
            elif alg == "ES256":
                r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
                sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
            else:
                sig = b""
            return f"{h}.{p}.{b64(sig)}"
        good = {"iss": ISS, "aud": AUD, "sub": "u-alice", "name": "Alice Admin", "email": "alice@oem.test", "groups": ["admin", "staff"],
                "iat": NOW - 10, "exp": NOW + 300, "nonce": "n-123456"}
        valid = sign(good)
        h, p, s = valid.split(".")
        tampered_payload = b64(json.dumps(dict(good, groups=["admin", "issuer"])).encode())
        tokens = {
            "valid": valid,
            "valid_es256": sign(dict(good, sub="u-bob", name="Bob"), kid="e1", alg="ES256", key=ec_key),
            "valid_list_audience": sign(dict(good, aud=[AUD, "other"], azp=AUD)),
            "list_audience_no_azp": sign(dict(good, aud=[AUD, "other"])),
            "other_issuer": sign(dict(good, iss="https://evil.test")),
            "other_client": sign(dict(good, aud="someone-else")),
            "expired": sign(dict(good, iat=NOW - 4000, exp=NOW - 3600)),
            "future": sign(dict(good, iat=NOW + 3600, exp=NOW + 7200)),
            "nonce": sign(dict(good, nonce="n-other")),
            "no_nonce": sign({k: v for k, v in good.items() if k != "nonce"}),
            "tampered": f"{h}.{tampered_payload}.{s}",
            "other_key": sign(good, key=other),
            "unknown_kid": sign(good, kid="r9"),
            "small_key": sign(good, kid="small", key=small),
            "alg_none": sign(good, alg="none", header={"alg": "none", "kid": "r1"}),
            "alg_hs256": h.replace(h, b64(json.dumps({"alg": "HS256", "kid": "r1"}).encode())) + "." + p + "." + s,
            "encryption_key": sign(good, kid="enc"),
            "no_sub": sign({k: v for k, v in good.items() if k != "sub"}),
        }
        print(json.dumps({"jwks": jwks, "tokens": tokens}))
        """#
        let result = try ProcessRunner.run("python3", ["-c", script])
        guard result.status == 0, let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
              let jwks = object["jwks"], let tokens = object["tokens"] as? [String: String] else {
            throw CryptoError(.openSSL, "the Python provider failed: \(result.diagnosis)")
        }
        return (Array(try JSONSerialization.data(withJSONObject: jwks)), tokens)
    }

    @Test("RS256 and ES256 ID tokens from another implementation verify; each forged, misaddressed, expired or replayed one is refused with its code")
    func idTokens() throws {
        let (jwks, tokens) = try Self.provider()
        let keys = try OIDCKeys(jwks: jwks)
        #expect(keys.keys.count == 2, "the 1024-bit key and the encryption key are not signing keys fod uses")
        let verifier = IDTokenVerifier(issuer: Self.issuer, clientID: Self.client, keys: keys, rolesClaim: "groups")
        func code(_ name: String, nonce: String = "n-123456") -> String {
            do { _ = try verifier.verify(tokens[name] ?? "", nonce: nonce, now: Self.now); return "ok" } catch let error as APIError {
                return error.code
            } catch { return "\(error)" }
        }
        let alice = try verifier.verify(tokens["valid"] ?? "", nonce: "n-123456", now: Self.now)
        #expect(alice == IDTokenClaims(subject: "u-alice", name: "Alice Admin", email: "alice@oem.test", groups: ["admin", "staff"], expiresAt: Self.now + 300))
        #expect(try verifier.verify(tokens["valid_es256"] ?? "", nonce: "n-123456", now: Self.now).subject == "u-bob")
        #expect(code("valid_list_audience") == "ok")
        let expected: [(String, String)] = [
            ("list_audience_no_azp", "oidc_audience_mismatch"), ("other_issuer", "oidc_issuer_mismatch"), ("other_client", "oidc_audience_mismatch"),
            ("expired", "oidc_expired"), ("future", "oidc_issued_in_future"), ("nonce", "oidc_nonce_mismatch"), ("no_nonce", "oidc_nonce_mismatch"),
            ("tampered", "oidc_signature_invalid"), ("other_key", "oidc_signature_invalid"), ("unknown_kid", "oidc_key_unknown"),
            ("small_key", "oidc_key_unknown"), ("alg_none", "oidc_alg_not_allowed"), ("alg_hs256", "oidc_alg_not_allowed"),
            ("encryption_key", "oidc_key_unknown"), ("no_sub", "oidc_token_malformed"),
        ]
        for (name, want) in expected { #expect(code(name) == want, "\(name)") }
        #expect(code("valid", nonce: "n-replayed") == "oidc_nonce_mismatch", "a token replayed into another sign-in")
        #expect(code("not.a.token") == "oidc_token_malformed")
        // Within the leeway of a minute, not beyond.
        #expect((try? verifier.verify(tokens["valid"] ?? "", nonce: "n-123456", now: Self.now + 300 + 59)) != nil)
        #expect((try? verifier.verify(tokens["valid"] ?? "", nonce: "n-123456", now: Self.now + 300 + 60)) == nil)
    }

    @Test("an RSA key is 2048 to 8192 bits with an odd exponent; its n and e are strict base64url")
    func rsaKeys() throws {
        let tooSmall = Base64URL.encode([0xC1] + [UInt8](repeating: 0x55, count: 127))
        #expect(throws: CryptoError(.keyUnsupported, "")) { try RSAPublicKey(n: tooSmall, e: "AQAB") }
        let modulus = Base64URL.encode([0xC1] + [UInt8](repeating: 0x55, count: 255))
        #expect(throws: CryptoError(.keyUnsupported, "")) { try RSAPublicKey(n: modulus, e: "AQAA") }
        #expect(throws: CryptoError(.jwkMalformed, "")) { try RSAPublicKey(n: "AA" + modulus, e: "AQAB") }
        #expect(throws: CryptoError(.jwkMalformed, "")) { try RSAPublicKey(n: modulus + "=", e: "AQAB") }
        let key = try RSAPublicKey(n: modulus, e: "AQAB")
        #expect(key.bits == 2048 && !key.verifyRS256(signature: [UInt8](repeating: 1, count: 256), message: Array("x".utf8)))
        #expect(!key.verifyRS256(signature: [1, 2, 3], message: Array("x".utf8)))
    }

    @Test("the way back from the provider: a forged state, a replayed sign-in, a code the provider refuses, a token from another issuer or client, an expired one, and a person without a role are each refused; a good one signs in with the roles of the claim")
    func signIn() async throws {
        let (jwks, tokens) = try Self.provider()
        let keys = try OIDCKeys(jwks: jwks)
        let settings = try OIDCSettings(issuer: Self.issuer, clientID: Self.client, clientSecret: "s3cret", publicURL: "https://fod.test/")
        #expect(settings.redirectURI == "https://fod.test/admin/oidc/callback")
        let pending = PendingSignIn(state: "st-1", nonce: "n-123456", verifier: "v-1", expiresAt: Self.now + 600)
        func signIn(_ token: String, exchangeFails: Bool = false) -> OIDCSignIn {
            OIDCSignIn(settings: settings, exchange: { code, verifier in
                guard !exchangeFails, code == "code-1", verifier == "v-1" else { throw APIError(.badRequest, "invalid_grant", "refused") }
                return token
            }, keys: { _ in keys }, usedStates: UsedStates())
        }
        func code(_ flow: OIDCSignIn, state: String? = "st-1", pending: PendingSignIn? = pending, error: String? = nil, at now: Int64 = Self.now) async -> String {
            do { _ = try await flow.complete(code: "code-1", state: state, error: error, pending: pending, now: now); return "ok" } catch let error as APIError {
                return error.code
            } catch { return "\(error)" }
        }
        let good = signIn(tokens["valid"] ?? "")
        let (claims, roles) = try await good.complete(code: "code-1", state: "st-1", error: nil, pending: pending, now: Self.now)
        #expect(claims.subject == "u-alice" && roles == [.admin], "the group admin grants admin; staff is no role")
        #expect(await code(good) == "oidc_state_used", "the same sign-in completed twice (a replayed code)")
        #expect(await code(signIn(tokens["valid"] ?? ""), state: "st-forged") == "oidc_state_mismatch")
        #expect(await code(signIn(tokens["valid"] ?? ""), state: nil) == "oidc_state_mismatch")
        #expect(await code(signIn(tokens["valid"] ?? ""), pending: nil) == "oidc_sign_in_expired")
        #expect(await code(signIn(tokens["valid"] ?? "", exchangeFails: true)) == "oidc_code_refused")
        #expect(await code(signIn(tokens["valid"] ?? ""), error: "access_denied") == "oidc_provider_error")
        #expect(await code(signIn(tokens["other_issuer"] ?? "")) == "oidc_issuer_mismatch")
        #expect(await code(signIn(tokens["other_client"] ?? "")) == "oidc_audience_mismatch")
        #expect(await code(signIn(tokens["expired"] ?? "")) == "oidc_expired")
        #expect(await code(signIn(tokens["nonce"] ?? "")) == "oidc_nonce_mismatch")
        let bob = try OIDCSettings(issuer: Self.issuer, clientID: Self.client, clientSecret: "s", rolesClaim: "roles", publicURL: "https://fod.test")
        let noRole = OIDCSignIn(settings: bob, exchange: { _, _ in tokens["valid"] ?? "" }, keys: { _ in keys }, usedStates: UsedStates())
        #expect(await code(noRole) == "oidc_no_role", "no roles claim: no role")

        // The pending sign-in's cookie: made by this server, unchanged, unexpired.
        let key = [UInt8](repeating: 7, count: 32)
        let made = PendingSignIn.make(now: Self.now)
        #expect(PendingSignIn.read(made.cookie(key: key), key: key, now: Self.now) == made)
        #expect(PendingSignIn.read(made.cookie(key: key), key: key, now: Self.now + 601) == nil)
        #expect(PendingSignIn.read(made.cookie(key: [UInt8](repeating: 8, count: 32)), key: key, now: Self.now) == nil)
        let forged = PendingSignIn(state: "attacker", nonce: made.nonce, verifier: made.verifier, expiresAt: made.expiresAt)
        let spliced = forged.cookie(key: key).split(separator: ".").prefix(4).joined(separator: ".") + "." + made.cookie(key: key).split(separator: ".").last!
        #expect(PendingSignIn.read(spliced, key: key, now: Self.now) == nil)
        #expect(made.challenge == Base64URL.encode(SHA256.hash(Array(made.verifier.utf8))) && made.challenge.count == 43)
        #expect(throws: APIError.self) { try OIDCSettings(issuer: "http://idp.example", clientID: "c", clientSecret: "s", publicURL: "https://fod.test") }
        #expect(OIDCClient.encode("a b&c=d/é") == "a%20b%26c%3Dd%2F%C3%A9")
    }
}
