import FoDEntitlements

/// A change that moves many cars or money, proposed by one person and taking effect only when a
/// second person with the right role approves it (four eyes; docs/back-office.md).
public struct Proposal: Sendable, Hashable {
    /// What is proposed.
    public enum Kind: String, Sendable, Hashable {
        /// Revoke every live entitlement of a list of vehicles (a recall, a fleet's end).
        case bulkRevoke = "bulk_revoke"
        /// Record a change of owner of a list of vehicles now (a fleet sold).
        case bulkTransfer = "bulk_transfer"
        /// Add a version to a commission plan (``Proposal/subject`` the plan, ``Proposal/payload``
        /// the version's document as `POST /v1/plans/{id}/versions` takes it).
        case planVersion = "plan_version"
        /// Settle an objection with an adjustment above the four-eyes amount (``Proposal/subject``
        /// the objection, ``Proposal/payload`` `{"amount", "reason"}`).
        case adjustment
    }

    /// Where it stands.
    public enum Status: String, Sendable, Hashable {
        case open, approved, rejected, expired
    }

    /// The most vehicles one proposal may name.
    public static let maxVehicles = 1_000
    /// How long a proposal waits for its second person: three days.
    public static let lifetime: Int64 = 3 * 86_400

    public let id: String
    public let kind: Kind
    public let vins: [VIN]
    /// The reason code and the proposer's comment.
    public let reason: String
    public let comment: String
    /// The role the second person must hold.
    public let requiredRole: Role
    /// Who proposed it: their subject and name.
    public let proposedBy: String
    public let proposedByName: String
    public let proposedAt: Int64
    public let expiresAt: Int64
    /// As stored: `open` until decided (``status(at:)`` says `expired` once due).
    public let storedStatus: Status
    public let decidedBy: String?
    public let decidedByName: String?
    public let decidedAt: Int64?
    /// What applying it did, once applied.
    public let result: String?
    /// What a plan version or an adjustment concerns: the plan's or the objection's id.
    public let subject: String?
    /// The change proposed, as JSON text (a plan version, an adjustment).
    public let payload: String?

    public init(id: String, kind: Kind, vins: [VIN], reason: String, comment: String, requiredRole: Role, proposedBy: String, proposedByName: String,
                proposedAt: Int64, expiresAt: Int64, storedStatus: Status = .open, decidedBy: String? = nil, decidedByName: String? = nil,
                decidedAt: Int64? = nil, result: String? = nil, subject: String? = nil, payload: String? = nil) {
        self.id = id
        self.kind = kind
        self.vins = vins
        self.reason = reason
        self.comment = comment
        self.requiredRole = requiredRole
        self.proposedBy = proposedBy
        self.proposedByName = proposedByName
        self.proposedAt = proposedAt
        self.expiresAt = expiresAt
        self.storedStatus = storedStatus
        self.decidedBy = decidedBy
        self.decidedByName = decidedByName
        self.decidedAt = decidedAt
        self.result = result
        self.subject = subject
        self.payload = payload
    }

    /// The status at `now`: an open proposal past its end has expired.
    public func status(at now: Int64) -> Status { storedStatus == .open && now >= expiresAt ? .expired : storedStatus }
}
