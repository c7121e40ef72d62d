import FoDEntitlements
import FoDStore
import PostgresNIO

extension PostgresStore {
    public func recordTransfer(_ plan: TransferPlan, actor: String, at now: Int64) async throws {
        try await write("transfer") { tx in
            guard try await tx.count("SELECT 1 FROM vehicle WHERE vin = \(plan.vin.value)") == 1 else { throw StoreError(.notFound, "no vehicle \(plan.vin)") }
            guard try await tx.count("""
                INSERT INTO ownership_transfer (vin, effective_at, recorded_at) VALUES (\(plan.vin.value), \(plan.effectiveAt), \(now))
                ON CONFLICT DO NOTHING RETURNING 1
                """) == 1 else { throw StoreError(.transferRecorded, "a transfer of \(plan.vin) at that moment is recorded already") }
            for ending in plan.ending {
                guard try await tx.count("""
                    UPDATE entitlement SET expires_at = \(ending.expiresAt), token = \(ending.token)
                    WHERE id = \(ending.id.value) AND token = \(ending.replacing) AND revoked_at IS NULL RETURNING 1
                    """) == 1 else { throw StoreError(.conflict, "entitlement \(ending.id) changed meanwhile") }
                if ending.subscription {
                    try await tx.query("INSERT INTO cancellation (entitlement_id, cancelled_at) VALUES (\(ending.id.value), \(now)) ON CONFLICT DO NOTHING")
                }
            }
            for id in plan.revoked {
                guard try await tx.count("""
                    UPDATE entitlement SET revoked_at = \(now), revoke_reason = 'transfer' WHERE id = \(id.value) AND revoked_at IS NULL RETURNING 1
                    """) == 1 else { throw StoreError(.conflict, "entitlement \(id) changed meanwhile") }
            }
            try await tx.query("UPDATE manifest_version SET content_sha256 = 'transfer' WHERE vin = \(plan.vin.value)")
            try await tx.audit(at: now, actor: actor, action: "vehicle.transfer", subject: plan.vin.value, details: plan.auditDetails)
        }
    }
}
