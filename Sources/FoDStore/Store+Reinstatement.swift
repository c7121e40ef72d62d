import FoDEntitlements

extension SQLStore {
    /// Undoes a revocation, with a reason: the entitlement is live again and the revocation it
    /// undid is kept in `reinstatement` and the audit log. A refund or withdrawal is not undone
    /// here (it has a refund event: book a new sale).
    /// - Throws: ``StoreError`` `not_found`, `not_revoked`, `refund_not_reinstatable`,
    ///   `conflict` (the feature is active on the vehicle through another entitlement).
    public func reinstate(_ id: EntitlementID, reason: String, actor: String, at now: Int64) async throws {
        try await write { db in
            guard let row = try SQLRow.fetchOne(db, sql: "SELECT * FROM entitlement WHERE id = ?", arguments: [id.value]) else {
                throw StoreError(.notFound, "no entitlement \(id)")
            }
            let stored = try Self.storedEntitlement(row)
            try StoreRows.checkReinstatable(stored)
            let other = try Bool.fetchOne(db, sql: """
                SELECT 1 FROM entitlement WHERE vin = ? AND feature = ? AND id <> ? AND revoked_at IS NULL AND not_before <= ?
                  AND (expires_at IS NULL OR expires_at > ?) LIMIT 1
                """, arguments: [stored.claims.vin.value, stored.claims.feature.value, id.value, now, now]) ?? false
            if other { throw StoreError(.conflict, "\(stored.claims.feature) is active on \(stored.claims.vin) through another entitlement") }
            try db.execute(sql: "INSERT INTO reinstatement (entitlement_id, reinstated_at, revoked_at, revoke_reason, reason) VALUES (?, ?, ?, ?, ?)",
                           arguments: [id.value, now, stored.revokedAt, stored.revokeReason, reason])
            try db.execute(sql: "UPDATE entitlement SET revoked_at = NULL, revoke_reason = NULL WHERE id = ?", arguments: [id.value])
            try db.appendAudit(at: now, actor: actor, action: "entitlement.reinstate", subject: id.value,
                               details: "reason=\(reason) revoked_at=\(stored.revokedAt ?? 0) revoke_reason=\(stored.revokeReason ?? "")")
        }
    }

    /// Ids reinstated at or after `since` that are live now (a later revocation is in ``revokedIDs(since:)``).
    public func reinstatedIDs(since: Int64) async throws -> [EntitlementID] {
        try await fetch("reinstatements read", sql: """
            SELECT DISTINCT r.entitlement_id FROM reinstatement r JOIN entitlement e ON e.id = r.entitlement_id
            WHERE r.reinstated_at >= ? AND e.revoked_at IS NULL
            """, arguments: [since]).map { row in try StoreRows.stored { try EntitlementID(row[0] as String) } }
    }
}
