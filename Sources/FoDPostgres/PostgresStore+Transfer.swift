import FoDEntitlements
import FoDStore
import PostgresNIO

extension PostgresStore {
    public func recordTransfer(_ plan: TransferPlan, actor: String, at now: Int64) async throws {
        try await write("transfer") { tx in
            var registered: Int64?
            for try await at in try await tx.query("SELECT created_at FROM vehicle WHERE vin = \(plan.vin.value)").decode(Int64.self) { registered = at }
            guard let registered else { throw StoreError(.notFound, "no vehicle \(plan.vin)") }
            if plan.recordsTransfer {
                try TransferPlan.checkRegistered(plan, registered)
                guard try await tx.count("""
                    INSERT INTO ownership_transfer (vin, effective_at, recorded_at) VALUES (\(plan.vin.value), \(plan.effectiveAt), \(now))
                    ON CONFLICT DO NOTHING RETURNING 1
                    """) == 1 else { throw StoreError(.transferRecorded, "a transfer of \(plan.vin) at that moment is recorded already") }
            }
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
            for entry in plan.auditEntries {
                try await tx.audit(at: now, actor: actor, action: entry.action, subject: entry.subject, details: entry.details)
            }
        }
    }

    public func transfers(of vin: VIN) async throws -> [Int64] {
        try await read("transfers") { connection -> [Int64] in
            var out: [Int64] = []
            for try await at in try await connection.query("SELECT effective_at FROM ownership_transfer WHERE vin = \(vin.value) ORDER BY effective_at",
                                                            logger: self.logger).decode(Int64.self) { out.append(at) }
            return out
        }
    }

    public func transfersTakingEffect(after from: Int64, upTo to: Int64) async throws -> [(vin: VIN, effectiveAt: Int64)] {
        try await read("transfers taking effect") { connection -> [(vin: VIN, effectiveAt: Int64)] in
            var out: [(vin: VIN, effectiveAt: Int64)] = []
            for try await (vin, at) in try await connection.query("""
                SELECT vin, effective_at FROM ownership_transfer WHERE effective_at > \(from) AND effective_at <= \(to) AND recorded_at < effective_at
                ORDER BY effective_at, vin
                """, logger: self.logger).decode((String, Int64).self) { out.append((try StoreRows.stored { try VIN(vin) }, at)) }
            return out
        }
    }
}
