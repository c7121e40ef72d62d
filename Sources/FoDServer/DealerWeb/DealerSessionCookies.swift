import FoDCrypto
import Foundation
import HTTPTypes
import Hummingbird

/// The dealer page's cookies and forms: the session cookie (HttpOnly, SameSite=Strict, Path=/dealer,
/// Secure when served over TLS), the sign-in form's CSRF cookie, and URL-encoded form bodies.
enum DealerSessionCookies {
    static let session = "fod_session"
    static let loginCSRF = "fod_login_csrf"
    /// Eight hours: one working day at the counter.
    static let lifetime: Int64 = 8 * 3600
    static let forwardedProto = HTTPField.Name("X-Forwarded-Proto")!

    /// Whether the browser reached us over TLS (directly, or through a proxy that says so).
    static func isSecure(_ request: Request, alwaysSecure: Bool) -> Bool {
        alwaysSecure || request.uri.scheme == .https || request.headers[forwardedProto]?.lowercased() == "https"
    }

    /// A `Set-Cookie` value; `maxAge` 0 deletes the cookie. The dealer page's are `Path=/dealer`,
    /// `SameSite=Strict`; the back office's name their own (``AdminWebRoutes``).
    static func cookie(_ name: String, _ value: String, path: String = "/dealer", sameSite: String = "Strict", maxAge: Int, secure: Bool) -> String {
        "\(name)=\(value); Path=\(path); Max-Age=\(maxAge); HttpOnly; SameSite=\(sameSite)\(secure ? "; Secure" : "")"
    }

    /// Constant-time comparison of a presented CSRF token with the expected one.
    static func matches(_ presented: String?, _ expected: String) -> Bool {
        guard let presented, !expected.isEmpty else { return false }
        return HMACSHA256.equal(Array(presented.utf8), Array(expected.utf8))
    }

    /// The sign-in form's CSRF token, bound to this server: `expiry.nonce.mac`, where the MAC is
    /// HMAC-SHA256 under a key that never leaves the servers (one key for every instance on the
    /// database: ``AccessStore/sharedSecret(_:)``). A plain double submit accepts any
    /// value an attacker manages to plant in both the cookie and the field (login CSRF); this one
    /// accepts only tokens the server made, within the hour.
    struct LoginCSRF: Sendable {
        private let key: [UInt8]

        /// Tokens under `key` (256 bits).
        init(key: [UInt8]) { self.key = key }

        private func mac(_ expiry: String, _ nonce: String) -> String {
            Base64URL.encode(HMACSHA256.mac(key: key, message: Array("fod-login-csrf|\(expiry)|\(nonce)".utf8)))
        }

        /// A token valid until `now + 3600`.
        func make(now: Int64) -> String {
            let expiry = String(now + 3600), nonce = Base64URL.encode(SecureRandom.bytes(16))
            return "\(expiry).\(nonce).\(mac(expiry, nonce))"
        }

        /// Whether `token` was made by this server and has not expired.
        func isValid(_ token: String, now: Int64) -> Bool {
            let parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3, let expiry = Int64(parts[0]), expiry >= now else { return false }
            return HMACSHA256.equal(Array(mac(parts[0], parts[1]).utf8), Array(parts[2].utf8))
        }
    }

    /// A fresh random token (256 bits).
    static func randomToken() -> String { Base64URL.encode(SecureRandom.bytes(32)) }

    /// An `application/x-www-form-urlencoded` body (≤ 16 KiB) as name → value (the first of repeated names).
    /// - Throws: ``APIError`` 413 `body_too_large`, 415 `form_expected`.
    static func form(_ request: Request) async throws -> [String: String] {
        guard RequestBody.isForm(request.headers[.contentType]) else {
            throw APIError(.unsupportedMediaType, "form_expected", "this page accepts form posts only")
        }
        let buffer: ByteBuffer
        do { buffer = try await request.body.collect(upTo: 16 * 1024) } catch {
            throw APIError(.contentTooLarge, "body_too_large", "the form is larger than 16 KiB")
        }
        var fields: [String: String] = [:]
        for pair in String(buffer: buffer).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String? { text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding }
            guard let name = decode(parts[0]), let value = parts.count > 1 ? decode(parts[1]) : "" else { continue }
            if fields[name] == nil { fields[name] = value }
        }
        return fields
    }
}
