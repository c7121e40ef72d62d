import FoDCrypto
import FoDEntitlements

/// A sign-in on its way through the identity provider: the `state` the browser comes back with,
/// the `nonce` the ID token must carry, the PKCE verifier (RFC 7636, S256), and its end. It
/// travels in a cookie the server signs (HMAC-SHA256 under a key every instance shares), so
/// the way back may reach another instance.
struct PendingSignIn: Sendable, Equatable {
    let state: String
    let nonce: String
    let verifier: String
    let expiresAt: Int64

    /// Ten minutes to sign in at the provider.
    static let lifetime: Int64 = 600

    /// A fresh one: 256 random bits each.
    static func make(now: Int64) -> PendingSignIn {
        PendingSignIn(state: Base64URL.encode(SecureRandom.bytes(32)), nonce: Base64URL.encode(SecureRandom.bytes(32)),
                      verifier: Base64URL.encode(SecureRandom.bytes(32)), expiresAt: now + lifetime)
    }

    /// The PKCE challenge: BASE64URL(SHA-256(verifier)).
    var challenge: String { Base64URL.encode(SHA256.hash(Array(verifier.utf8))) }

    /// The cookie value: the four fields and their MAC.
    func cookie(key: [UInt8]) -> String {
        let body = "\(state).\(nonce).\(verifier).\(expiresAt)"
        return body + "." + PendingSignIn.mac(body, key: key)
    }

    /// The pending sign-in of a cookie this server made that has not expired; `nil` otherwise.
    static func read(_ cookie: String?, key: [UInt8], now: Int64) -> PendingSignIn? {
        guard let cookie, cookie.utf8.count <= 400 else { return nil }
        let parts = cookie.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 5, let expiresAt = Int64(parts[3]), expiresAt > now else { return nil }
        let body = parts[0..<4].joined(separator: ".")
        guard HMACSHA256.equal(Array(mac(body, key: key).utf8), Array(parts[4].utf8)) else { return nil }
        return PendingSignIn(state: parts[0], nonce: parts[1], verifier: parts[2], expiresAt: expiresAt)
    }

    private static func mac(_ body: String, key: [UInt8]) -> String {
        Base64URL.encode(HMACSHA256.mac(key: key, message: Array("fod-admin-oidc|\(body)".utf8)))
    }
}
