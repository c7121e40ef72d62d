import FoDCore
import FoDCrypto
import FoDEntitlements

/// Four eyes (docs/back-office.md): proposals and their decisions, each audited in the name of the
/// person who made it.
public protocol ProposalStore: Sendable {
    /// Records a new proposal (`proposal.create`).
    func createProposal(_ proposal: Proposal) async throws
    /// One proposal, or `nil`.
    func proposal(id: String) async throws -> Proposal?
    /// The newest proposals first, at most `limit`.
    func proposals(limit: Int) async throws -> [Proposal]
    /// Approves or rejects an open proposal (`proposal.approve` / `proposal.reject`), by a person
    /// other than its proposer.
    /// - Throws: ``StoreError`` `proposal_not_found`, `proposal_decided`, `proposal_expired`,
    ///   `proposal_own` (the proposer may not decide their own).
    func decideProposal(id: String, approve: Bool, by subject: String, name: String, actor: String, at now: Int64) async throws -> Proposal
    /// Records what applying an approved proposal did.
    func recordProposalResult(id: String, result: String) async throws
}

extension SQLStore {
    public func createProposal(_ proposal: Proposal) async throws {
        try await write("proposal create") { db in
            try db.execute(sql: """
                INSERT INTO proposal (id, kind, vins, reason, comment, required_role, proposed_by, proposed_by_name, proposed_at, expires_at, status, subject, payload)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?)
                """, arguments: [proposal.id, proposal.kind.rawValue, proposal.vins.map(\.value).joined(separator: " "), proposal.reason, proposal.comment,
                                 proposal.requiredRole.rawValue, proposal.proposedBy, proposal.proposedByName, proposal.proposedAt, proposal.expiresAt,
                                 proposal.subject, proposal.payload])
            try db.appendAudit(at: proposal.proposedAt, actor: Principal(person: proposal.proposedBy, name: proposal.proposedByName, role: proposal.requiredRole).actor,
                               action: "proposal.create", subject: proposal.id,
                               details: "\(proposal.kind.rawValue)\(proposal.subject.map { " subject=\($0)" } ?? "") vehicles=\(proposal.vins.count) reason=\(proposal.reason) expires=\(Instant(unixSeconds: proposal.expiresAt).rfc3339)")
        }
    }

    public func proposal(id: String) async throws -> Proposal? {
        try await fetch("proposal read", sql: "SELECT * FROM proposal WHERE id = ?", arguments: [id]).first.map(Self.proposal)
    }

    public func proposals(limit: Int) async throws -> [Proposal] {
        try await fetch("proposals read", sql: "SELECT * FROM proposal ORDER BY proposed_at DESC, id DESC LIMIT ?", arguments: [limit]).map(Self.proposal)
    }

    public func decideProposal(id: String, approve: Bool, by subject: String, name: String, actor: String, at now: Int64) async throws -> Proposal {
        try await write("proposal decide") { db in
            guard let row = try SQLRow.fetchOne(db, sql: "SELECT * FROM proposal WHERE id = ?", arguments: [id]) else {
                throw StoreError(.proposalNotFound, "there is no proposal \(id.prefix(40))")
            }
            let proposal = Self.proposal(row)
            switch proposal.status(at: now) {
            case .open: break
            case .expired: throw StoreError(.proposalExpired, "proposal \(id) expired at \(Instant(unixSeconds: proposal.expiresAt).rfc3339): propose it again")
            case .approved, .rejected: throw StoreError(.proposalDecided, "proposal \(id) was \(proposal.storedStatus.rawValue) already")
            }
            guard proposal.proposedBy != subject else {
                throw StoreError(.proposalOwn, "a proposal takes a second person: \(name) proposed it and cannot \(approve ? "approve" : "reject") it")
            }
            try db.execute(sql: "UPDATE proposal SET status = ?, decided_by = ?, decided_by_name = ?, decided_at = ? WHERE id = ? AND status = 'open'",
                           arguments: [approve ? "approved" : "rejected", subject, name, now, id])
            try db.appendAudit(at: now, actor: actor, action: approve ? "proposal.approve" : "proposal.reject", subject: id,
                               details: "\(proposal.kind.rawValue) proposed by \(proposal.proposedBy) (\(proposal.proposedByName))")
            return Self.proposal(try SQLRow.fetchOne(db, sql: "SELECT * FROM proposal WHERE id = ?", arguments: [id])!)
        }
    }

    public func recordProposalResult(id: String, result: String) async throws {
        try await write("proposal result") { db in
            try db.execute(sql: "UPDATE proposal SET result = ? WHERE id = ?", arguments: [String(result.prefix(2000)), id])
        }
    }

    static func proposal(_ row: SQLRow) -> Proposal {
        Proposal(id: row["id"], kind: Proposal.Kind(rawValue: row["kind"]) ?? .bulkRevoke,
                 vins: (row["vins"] as String).split(separator: " ").compactMap { try? VIN(strict: String($0)) },
                 reason: row["reason"], comment: row["comment"], requiredRole: Role(rawValue: row["required_role"]) ?? .admin,
                 proposedBy: row["proposed_by"], proposedByName: row["proposed_by_name"], proposedAt: row["proposed_at"], expiresAt: row["expires_at"],
                 storedStatus: Proposal.Status(rawValue: row["status"]) ?? .open, decidedBy: row["decided_by"], decidedByName: row["decided_by_name"],
                 decidedAt: row["decided_at"], result: row["result"], subject: row["subject"], payload: row["payload"])
    }
}
