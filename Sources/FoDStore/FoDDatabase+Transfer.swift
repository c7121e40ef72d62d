import FoDCore
import FoDEntitlements
import GRDB

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
    /// Entitlements that would start at or after the transfer: revoked (reason `transfer`).
    public let revoked: [EntitlementID]

    public init(vin: VIN, effectiveAt: Int64, ending: [Ending], revoked: [EntitlementID]) {
        self.vin = vin
        self.effectiveAt = effectiveAt
        self.ending = ending
        self.revoked = revoked
    }

    /// How the audit log records it.
    public var auditDetails: String {
        "effective_at=\(Instant(unixSeconds: effectiveAt).rfc3339) ended=\(ending.map(\.id.value).joined(separator: ",")) revoked=\(revoked.map(\.value).joined(separator: ","))"
    }
}

extension FoDDatabase {
    /// Records a change of owner in one transaction: the transfer, the entitlements that end at it
    /// (re-signed, subscriptions cancelled), those that would start after it revoked, and the
    /// vehicle's next manifest made a new version; commissions already earned are not touched.
    /// - Throws: ``StoreError`` `not_found` (no such vehicle), `transfer_recorded`, `conflict` (an entitlement
    ///   changed meanwhile: plan again).
    public func recordTransfer(_ plan: TransferPlan, actor: String, at now: Int64) throws {
        try write { db in
            guard try FoDDatabase.vehicle(db, plan.vin) != nil else { throw StoreError(.notFound, "no vehicle \(plan.vin)") }
            try db.execute(sql: "INSERT INTO ownership_transfer (vin, effective_at, recorded_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                           arguments: [plan.vin.value, plan.effectiveAt, now])
            guard db.changesCount == 1 else { throw StoreError(.transferRecorded, "a transfer of \(plan.vin) at that moment is recorded already") }
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
            try FoDDatabase.appendAudit(db, at: now, actor: actor, action: "vehicle.transfer", subject: plan.vin.value, details: plan.auditDetails)
        }
    }
}
