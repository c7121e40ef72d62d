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
    /// The network team: partners, sites, salespeople (and reading them).
    case network
    /// Product management: catalog versions, campaigns, retirements.
    case product
    /// Finance: commission plans and their versions, what-if previews; closing periods, credit
    /// notes and objections (as the auditor role may, from before this role).
    case finance

    public var description: String { rawValue }
}

/// Who is calling: an API key's id, role and, for dealer keys, the dealer.
public struct Principal: Sendable, Hashable {
    /// The key's public id (not the secret).
    public let keyID: String
    /// The role.
    public let role: Role
    /// The site a dealer key acts as (a `dealer_id`).
    public let dealer: DealerID?
    /// The partner that runs the site (the legal entity its sales are credited to).
    public let partner: PartnerID?
    /// The salesperson a dealer key names, if any: recorded on its sales.
    public let salesperson: SalespersonID?

    /// The person acting, when a person signed in to the back office (their name at the
    /// identity provider; ``keyID`` is then `person:` and their subject).
    public let personName: String?

    /// Creates a principal.
    public init(keyID: String, role: Role, dealer: DealerID?, partner: PartnerID? = nil, salesperson: SalespersonID? = nil) {
        self.keyID = keyID
        self.role = role
        self.dealer = dealer
        self.partner = partner ?? dealer.flatMap { try? PartnerID($0.value) }
        self.salesperson = salesperson
        self.personName = nil
    }

    /// A person acting in `role` (never a dealer's): `subject` is their stable id at the identity
    /// provider, `name` how people know them.
    public init(person subject: String, name: String, role: Role) {
        self.keyID = "person:\(subject)"
        self.role = role
        self.dealer = nil
        self.partner = nil
        self.salesperson = nil
        self.personName = name
    }

    /// The name the audit log records: the role and key, the dealer and salesperson, or for a
    /// person the role, their subject and their name.
    public var actor: String {
        if let personName { return "\(role):\(keyID) (\(personName))" }
        guard let dealer else { return "\(role):\(keyID)" }
        return "\(role):\(keyID):\(dealer)" + (salesperson.map { ":\($0)" } ?? "")
    }
}
