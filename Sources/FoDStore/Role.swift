import FoDEntitlements

/// What an API key may do (see `docs/api.md`).
public enum Role: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Everything, including API keys.
    case admin
    /// The OEM backend: vehicles, issuing, revocation, refunds, manifests.
    case issuer
    /// One dealer: look-ups, offers, activations credited to itself, its own statements.
    case dealer
    /// Reports, the audit log, exports.
    case auditor

    public var description: String { rawValue }
}

/// Who is calling: an API key's id, role and, for dealer keys, the dealer.
public struct Principal: Sendable, Hashable {
    /// The key's public id (not the secret).
    public let keyID: String
    /// The role.
    public let role: Role
    /// The dealer a dealer key acts as.
    public let dealer: DealerID?

    /// Creates a principal.
    public init(keyID: String, role: Role, dealer: DealerID?) {
        self.keyID = keyID
        self.role = role
        self.dealer = dealer
    }

    /// The name the audit log records.
    public var actor: String { dealer.map { "\(role):\(keyID):\($0)" } ?? "\(role):\(keyID)" }
}
