/// The JWS `typ` values fod issues; each kind of token is verified only as its own kind.
public enum TokenType: String, Sendable, Hashable, CaseIterable {
    /// A single feature entitlement.
    case entitlement = "fod-entitlement+jwt"
    /// A vehicle manifest: everything active for one VIN, versioned against rollback.
    case manifest = "fod-manifest+jwt"
}
