import FoDEntitlements
import FoDStore
import PostgresNIO

extension PostgresStore {
    public func reinstate(_ id: EntitlementID, reason: String, actor: String, at now: Int64) async throws {
        try await write("reinstatement") { tx in
            guard let stored = try await PostgresStore.entitlements(try await tx.query(
                "SELECT \(unescaped: PostgresStore.entitlementColumns) FROM entitlement WHERE id = \(id.value) FOR UPDATE")).first else {
                throw StoreError(.notFound, "no entitlement \(id)")
            }
            try StoreRows.checkReinstatable(stored)
            guard try await tx.count("""
                SELECT 1 FROM entitlement WHERE vin = \(stored.claims.vin.value) AND feature = \(stored.claims.feature.value) AND id <> \(id.value)
                  AND revoked_at IS NULL AND not_before <= \(now) AND (expires_at IS NULL OR expires_at > \(now)) LIMIT 1
                """) == 0 else { throw StoreError(.conflict, "\(stored.claims.feature) is active on \(stored.claims.vin) through another entitlement") }
            try await tx.query("""
                INSERT INTO reinstatement (entitlement_id, reinstated_at, revoked_at, revoke_reason, reason)
                VALUES (\(id.value), \(now), \(stored.revokedAt), \(stored.revokeReason), \(reason))
                """)
            try await tx.query("UPDATE entitlement SET revoked_at = NULL, revoke_reason = NULL WHERE id = \(id.value)")
            try await tx.audit(at: now, actor: actor, action: "entitlement.reinstate", subject: id.value,
                               details: "reason=\(reason) revoked_at=\(stored.revokedAt ?? 0) revoke_reason=\(stored.revokeReason ?? "")")
        }
    }

    public func reinstatedIDs(since: Int64) async throws -> [EntitlementID] {
        try await read("reinstatements read") { connection in
            var ids: [EntitlementID] = []
            for try await id in try await connection.query("""
                SELECT DISTINCT r.entitlement_id FROM reinstatement r JOIN entitlement e ON e.id = r.entitlement_id
                WHERE r.reinstated_at >= \(since) AND e.revoked_at IS NULL
                """, logger: self.logger).decode(String.self) {
                ids.append(try StoreRows.stored { try EntitlementID(id) })
            }
            return ids
        }
    }
}
