/// Where a verifier learns which entitlements are revoked (verification step 7).
public protocol RevocationSource: Sendable {
    /// Whether the entitlement with this id is revoked.
    /// - Throws: when the source cannot answer; verification then fails rather than pass unchecked.
    func isRevoked(_ id: EntitlementID) throws -> Bool
}

/// A fixed set of revoked entitlement ids.
public struct RevocationList: RevocationSource {
    /// The revoked ids.
    public var revoked: Set<EntitlementID>
    /// Creates a list.
    public init(_ revoked: Set<EntitlementID>) { self.revoked = revoked }
    public func isRevoked(_ id: EntitlementID) -> Bool { revoked.contains(id) }
}
