import FoDCore
import FoDEntitlements

/// What a renewal records: the subscription period it continues and the next period's sale.
public struct RenewalRecord: Sendable {
    /// The entitlement whose period ends.
    public let previous: EntitlementID
    /// The next period: its entitlement (starting where the previous ends), priced event and consent.
    public let activation: NewActivation

    public init(previous: EntitlementID, activation: NewActivation) {
        self.previous = previous
        self.activation = activation
    }
}

extension SQLStore {
    /// Subscriptions due for renewal: live `subscription` entitlements ending after `now` and at
    /// or before `until`, neither renewed nor cancelled, in id order after `after`.
    public func renewalsDue(at now: Int64, until: Int64, after: EntitlementID?, limit: Int) async throws -> [StoredEntitlement] {
        try await read { db in
            try SQLRow.fetchAll(db, sql: """
                SELECT * FROM entitlement e
                WHERE e.term = 'subscription' AND e.revoked_at IS NULL AND e.expires_at > ? AND e.expires_at <= ? AND e.id > ?
                  AND NOT EXISTS (SELECT 1 FROM renewal r WHERE r.previous_id = e.id)
                  AND NOT EXISTS (SELECT 1 FROM cancellation c WHERE c.entitlement_id = e.id)
                ORDER BY e.id LIMIT ?
                """, arguments: [now, until, after?.value ?? "", limit]).map(Self.storedEntitlement)
        }
    }

    /// Records a renewal once: the link to the period it continues, the next period's
    /// entitlement, event and consent, and the audit entry — or nothing, when the previous period
    /// was renewed (by another run), cancelled or revoked meanwhile.
    /// - Returns: whether this call renewed it.
    public func recordRenewal(_ renewal: RenewalRecord, actor: String, at now: Int64) async throws -> Bool {
        try await write { db in
            let live = try Bool.fetchOne(db, sql: """
                SELECT 1 FROM entitlement e WHERE e.id = ? AND e.revoked_at IS NULL
                  AND NOT EXISTS (SELECT 1 FROM cancellation c WHERE c.entitlement_id = e.id)
                """, arguments: [renewal.previous.value]) ?? false
            guard live else { return false }
            try db.execute(sql: "INSERT INTO renewal (previous_id, next_id, renewed_at) VALUES (?, ?, ?) ON CONFLICT (previous_id) DO NOTHING",
                           arguments: [renewal.previous.value, renewal.activation.entitlement.claims.id.value, now])
            guard db.changesCount == 1 else { return false }
            try Self.insertSales([renewal.activation], db, at: now)
            try db.appendAudit(at: now, actor: actor, action: "subscription.renew", subject: renewal.activation.entitlement.claims.id.value,
                               details: "renews=\(renewal.previous) " + StoreRows.activationDetails(renewal.activation))
            return true
        }
    }

    /// Cancels a subscription at the end of its paid period: the newest period of the chain `id`
    /// belongs to is not renewed.
    /// - Returns: the newest period's entitlement (what ends, and when).
    /// - Throws: ``StoreError`` `not_found`, `invalid` (not a subscription), `conflict` (cancelled already).
    public func cancelSubscription(_ id: EntitlementID, actor: String, at now: Int64) async throws -> StoredEntitlement {
        try await write { db in
            var current = id
            while let next = try String.fetchOne(db, sql: "SELECT next_id FROM renewal WHERE previous_id = ?", arguments: [current.value]) {
                current = try StoreRows.stored { try EntitlementID(next) }
            }
            guard let row = try SQLRow.fetchOne(db, sql: "SELECT * FROM entitlement WHERE id = ?", arguments: [current.value]) else {
                throw StoreError(.notFound, "no entitlement \(id)")
            }
            let stored = try Self.storedEntitlement(row)
            guard stored.claims.term == .subscription else { throw StoreError(.invalid, "entitlement \(id) is not a subscription") }
            try StoreRows.requireRunning(stored, at: now)
            try db.execute(sql: "INSERT INTO cancellation (entitlement_id, cancelled_at) VALUES (?, ?) ON CONFLICT (entitlement_id) DO NOTHING",
                           arguments: [current.value, now])
            guard db.changesCount == 1 else { throw StoreError(.conflict, "the subscription \(id) is cancelled already") }
            try db.appendAudit(at: now, actor: actor, action: "subscription.cancel", subject: current.value,
                               details: "ends=\(stored.claims.expiresAt.map { Instant(unixSeconds: $0).rfc3339 } ?? "-")")
            return stored
        }
    }

    /// Live entitlements that end after `now` and at or before `until` and will not go on: not
    /// renewed, and not a subscription that renews (one that is cancelled ends) — one dealer's or all.
    public func expiring(at now: Int64, until: Int64, dealer: DealerID?, after: ExpiringCursor?, limit: Int) async throws -> [StoredEntitlement] {
        try await read("expiring read") { db in
            try SQLRow.fetchAll(db, sql: """
                SELECT * FROM entitlement e
                WHERE e.revoked_at IS NULL AND e.expires_at > ? AND e.expires_at <= ? AND (CAST(? AS TEXT) IS NULL OR e.dealer_id = ?)
                  AND NOT EXISTS (SELECT 1 FROM renewal r WHERE r.previous_id = e.id)
                  AND NOT EXISTS (SELECT 1 FROM entitlement n WHERE n.vin = e.vin AND n.feature = e.feature AND n.id <> e.id AND n.revoked_at IS NULL
                                    AND (n.expires_at IS NULL OR n.expires_at > e.expires_at))
                  AND (e.term <> 'subscription' OR EXISTS (SELECT 1 FROM cancellation c WHERE c.entitlement_id = e.id))
                  AND (CAST(? AS BIGINT) IS NULL OR e.expires_at > ? OR (e.expires_at = ? AND e.id > ?))
                ORDER BY e.expires_at, e.id LIMIT ?
                """, arguments: [now, until, dealer?.value, dealer?.value, after?.expiresAt, after?.expiresAt, after?.expiresAt, after?.id.value,
                                 limit]).map(Self.storedEntitlement)
        }
    }
}
