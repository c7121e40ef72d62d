import FoDEntitlements
import FoDStore
import HTTPTypes

/// How people sign in to the back office through the company's identity provider (`fod serve
/// --oidc-issuer URL --oidc-client-id ID --oidc-client-secret-file FILE [--oidc-roles-claim
/// groups]`; docs/back-office.md). Without it, the back office takes an API key of a human role.
public struct OIDCSettings: Sendable {
    /// The provider's issuer: its discovery document is `{issuer}/.well-known/openid-configuration`,
    /// and every ID token's `iss` must be exactly this.
    public let issuer: String
    public let clientID: String
    public let clientSecret: String
    /// The claim whose values name fod roles (a group named `admin`, `issuer`, … grants it).
    public let rolesClaim: String
    /// Where the provider sends the browser back: `{public URL}/admin/oidc/callback`.
    public let redirectURI: String

    /// - Throws: ``APIError`` `oidc_settings_invalid`: an issuer that is not https (http only on
    ///   loopback), an empty client id or secret, a public URL that is not http(s).
    public init(issuer: String, clientID: String, clientSecret: String, rolesClaim: String = "groups", publicURL: String) throws {
        func fail(_ reason: String) -> APIError { APIError(.internalServerError, "oidc_settings_invalid", reason) }
        let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"].contains { issuer == $0 || issuer.hasPrefix($0 + ":") || issuer.hasPrefix($0 + "/") }
        guard issuer.hasPrefix("https://") || loopback, issuer.utf8.count <= 500 else {
            throw fail("--oidc-issuer must be an https URL (http only on loopback), not \"\(issuer.prefix(100))\"")
        }
        guard !clientID.isEmpty, clientID.utf8.count <= 200, !clientSecret.isEmpty else {
            throw fail("--oidc-client-id and the secret in --oidc-client-secret-file must not be empty")
        }
        guard !rolesClaim.isEmpty, rolesClaim.utf8.count <= 100 else { throw fail("--oidc-roles-claim names a claim") }
        var base = publicURL
        while base.hasSuffix("/") { base.removeLast() }
        guard base.hasPrefix("https://") || base.hasPrefix("http://") else { throw fail("--public-url must be an http(s) URL for the sign-in's way back") }
        self.issuer = issuer
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.rolesClaim = rolesClaim
        self.redirectURI = base + "/admin/oidc/callback"
    }

    /// The fod roles a person's claim values grant: a value named like a role grants it; a
    /// dealer's role never comes from here (dealers sign in at `/dealer` with their key).
    func roles(_ values: [String]) -> [Role] {
        Role.allCases.filter { $0 != .dealer && values.contains($0.rawValue) }
    }
}
