import FoDEntitlements

/// One entitlement the vehicle holds: from its newest manifest, or applied as a single token since.
public struct HeldEntitlement: Sendable, Hashable {
    /// Where the vehicle learnt of it.
    public enum Source: String, Sendable, Hashable {
        /// Listed in the newest manifest applied.
        case manifest
        /// Applied as a single entitlement token (issued after that manifest).
        case token
    }

    /// The entitlement's window and feature, as its manifest entry.
    public var entry: ManifestClaims.Entry
    /// When it was issued (`iat` of the token, or of the manifest that listed it).
    public var issuedAt: Int64
    /// Where it came from.
    public var source: Source

    /// An entitlement held.
    public init(entry: ManifestClaims.Entry, issuedAt: Int64, source: Source) {
        self.entry = entry
        self.issuedAt = issuedAt
        self.source = source
    }
}
