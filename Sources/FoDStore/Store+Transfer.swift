import FoDCore
import FoDEntitlements

/// What a change of owner does to the vehicle's entitlements of features that do not stay with it.
public struct TransferPlan: Sendable {
    /// An entitlement that ends at the transfer: re-signed with the transfer as its end.
    public struct Ending: Sendable {
        public let id: EntitlementID
        public let expiresAt: Int64
        /// The re-signed token, replacing ``replacing`` (if it is still the stored one).
        public let token: String
        public let replacing: String
        /// A subscription: it is not renewed either.
        public let subscription: Bool

        public init(id: EntitlementID, expiresAt: Int64, token: String, replacing: String, subscription: Bool) {
            self.id = id
            self.expiresAt = expiresAt
            self.token = token
            self.replacing = replacing
            self.subscription = subscription
        }
    }

    public let vin: VIN
    public let effectiveAt: Int64
    public let ending: [Ending]
    /// Entitlements that would start at or after the transfer, and permanent ones (a permanent
    /// token has no end to re-sign with): revoked (reason `transfer`).
    public let revoked: [EntitlementID]
    /// `true`: the change of owner itself (recorded once, audited `vehicle.transfer`); `false`: a
    /// transfer recorded earlier taking effect now (what could only end then is revoked, each
    /// audited `entitlement.revoke`).
    public var recordsTransfer = true

    public init(vin: VIN, effectiveAt: Int64, ending: [Ending], revoked: [EntitlementID]) {
        self.vin = vin
        self.effectiveAt = effectiveAt
        self.ending = ending
        self.revoked = revoked
    }

    /// The audit entries it writes: `vehicle.transfer`, or one `entitlement.revoke` per entitlement it ends.
    public var auditEntries: [(action: String, subject: String, details: String)] {
        guard !recordsTransfer else { return [("vehicle.transfer", vin.value, auditDetails)] }
        return revoked.map { ("entitlement.revoke", $0.value, "reason=transfer effective_at=\(Instant(unixSeconds: effectiveAt).rfc3339)") }
    }

    /// Refuses a change of owner dated before the vehicle was registered (`registered`, Unix seconds).
    /// - Throws: ``StoreError`` `effective_at_before_registration`.
    public static func checkRegistered(_ plan: TransferPlan, _ registered: Int64) throws {
        guard plan.effectiveAt >= registered else {
            throw StoreError(.beforeRegistration, "effective_at \(Instant(unixSeconds: plan.effectiveAt).rfc3339) is before \(plan.vin) was registered (\(Instant(unixSeconds: registered).rfc3339))")
        }
    }

    /// How the audit log records it.
    public var auditDetails: String {
        "effective_at=\(Instant(unixSeconds: effectiveAt).rfc3339) ended=\(ending.map(\.id.value).joined(separator: ",")) revoked=\(revoked.map(\.value).joined(separator: ","))"
    }
}

extension SQLStore {
    /// Records a change of owner in one transaction: the transfer, the entitlements that end at it
    /// (re-signed, subscriptions cancelled), those that would start after it revoked, and the
    /// vehicle's next manifest made a new version; commissions already earned are not touched.
    /// - Throws: ``StoreError`` `not_found` (no such vehicle), `transfer_recorded`, `conflict` (an entitlement
    ///   changed meanwhile: plan again).
    public func recordTransfer(_ plan: TransferPlan, actor: String, at now: Int64) async throws {
        try await write { db in
            guard let registered = try Int64.fetchOne(db, sql: "SELECT created_at FROM vehicle WHERE vin = ?", arguments: [plan.vin.value]) else {
                throw StoreError(.notFound, "no vehicle \(plan.vin)")
            }
            if plan.recordsTransfer {
                try TransferPlan.checkRegistered(plan, registered)
                try db.execute(sql: "INSERT INTO ownership_transfer (vin, effective_at, recorded_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                               arguments: [plan.vin.value, plan.effectiveAt, now])
                guard db.changesCount == 1 else { throw StoreError(.transferRecorded, "a transfer of \(plan.vin) at that moment is recorded already") }
            }
            for ending in plan.ending {
                try db.execute(sql: "UPDATE entitlement SET expires_at = ?, token = ? WHERE id = ? AND token = ? AND revoked_at IS NULL",
                               arguments: [ending.expiresAt, ending.token, ending.id.value, ending.replacing])
                guard db.changesCount == 1 else { throw StoreError(.conflict, "entitlement \(ending.id) changed meanwhile") }
                if ending.subscription {
                    try db.execute(sql: "INSERT INTO cancellation (entitlement_id, cancelled_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
                                   arguments: [ending.id.value, now])
                }
            }
            for id in plan.revoked {
                try db.execute(sql: "UPDATE entitlement SET revoked_at = ?, revoke_reason = 'transfer' WHERE id = ? AND revoked_at IS NULL",
                               arguments: [now, id.value])
                guard db.changesCount == 1 else { throw StoreError(.conflict, "entitlement \(id) changed meanwhile") }
            }
            // Whatever changed, the next manifest is a new version.
            try db.execute(sql: "UPDATE manifest_version SET content_sha256 = 'transfer' WHERE vin = ?", arguments: [plan.vin.value])
            for entry in plan.auditEntries {
                try db.appendAudit(at: now, actor: actor, action: entry.action, subject: entry.subject, details: entry.details)
            }
        }
    }

    public func transfers(of vin: VIN) async throws -> [Int64] {
        try await fetch("transfers read", sql: "SELECT effective_at FROM ownership_transfer WHERE vin = ? ORDER BY effective_at", arguments: [vin.value])
            .map { $0[0] }
    }

    public func transfersTakingEffect(after from: Int64, upTo to: Int64) async throws -> [(vin: VIN, effectiveAt: Int64)] {
        try await read { db in
            try SQLRow.fetchAll(db, sql: """
                SELECT vin, effective_at FROM ownership_transfer WHERE effective_at > ? AND effective_at <= ? AND recorded_at < effective_at
                ORDER BY effective_at, vin
                """, arguments: [from, to]).map { row in (try StoreRows.stored { try VIN(row["vin"] as String) }, row["effective_at"]) }
        }
    }
}
