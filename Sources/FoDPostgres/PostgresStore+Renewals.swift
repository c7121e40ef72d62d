import FoDCore
import FoDEntitlements
import FoDStore
import PostgresNIO

extension PostgresStore {
    public func renewalsDue(at now: Int64, until: Int64, after: EntitlementID?, limit: Int) async throws -> [StoredEntitlement] {
        try await read("renewals read") { connection in
            try await PostgresStore.entitlements(try await connection.query("""
                SELECT \(unescaped: PostgresStore.entitlementColumns) FROM entitlement e
                WHERE e.term = 'subscription' AND e.revoked_at IS NULL AND e.expires_at > \(now) AND e.expires_at <= \(until) AND e.id > \(after?.value ?? "")
                  AND NOT EXISTS (SELECT 1 FROM renewal r WHERE r.previous_id = e.id)
                  AND NOT EXISTS (SELECT 1 FROM cancellation c WHERE c.entitlement_id = e.id)
                ORDER BY e.id LIMIT \(Int64(limit))
                """, logger: self.logger))
        }
    }

    /// The renewal's link is inserted first (`ON CONFLICT DO NOTHING`): of two runs at once, on
    /// this instance or another, the one whose row went in books the period; the other writes nothing.
    public func recordRenewal(_ renewal: RenewalRecord, actor: String, at now: Int64) async throws -> Bool {
        try await write("renewal") { tx in
            guard try await tx.count("""
                SELECT 1 FROM entitlement e WHERE e.id = \(renewal.previous.value) AND e.revoked_at IS NULL
                  AND NOT EXISTS (SELECT 1 FROM cancellation c WHERE c.entitlement_id = e.id)
                """) == 1 else { return false }
            let claims = renewal.activation.entitlement.claims
            guard try await tx.count("""
                INSERT INTO renewal (previous_id, next_id, renewed_at) VALUES (\(renewal.previous.value), \(claims.id.value), \(now))
                ON CONFLICT (previous_id) DO NOTHING RETURNING 1
                """) == 1 else { return false }
            try await PostgresStore.insertSale(renewal.activation, tx, at: now)
            try await tx.audit(at: now, actor: actor, action: "subscription.renew", subject: claims.id.value,
                               details: "renews=\(renewal.previous) " + StoreRows.activationDetails(renewal.activation))
            return true
        }
    }

    /// A sale's rows, one statement each: the entitlement, its priced activation event, its consent.
    static func insertSale(_ activation: NewActivation, _ tx: WriteTransaction, at now: Int64) async throws {
        let claims = activation.entitlement.claims, consent = activation.consent
        try await tx.query("""
            INSERT INTO entitlement (id, issuer, vin, feature, term, dealer_id, issued_at, not_before, expires_at, token)
            VALUES (\(claims.id.value), \(claims.issuer.value), \(claims.vin.value), \(claims.feature.value), \(claims.term.rawValue), \(claims.dealer?.value),
                    \(claims.issuedAt), \(claims.notBefore), \(claims.expiresAt), \(activation.entitlement.token))
            """)
        try await tx.query("""
            INSERT INTO event (event_id, occurred_at, kind, refers_to, vin, feature, term, channel, dealer_id, market, currency, gross_minor, vat_bps, entitlement_id)
            VALUES (\(StoreRows.activationEventID(claims.id)), \(claims.issuedAt), 'activation', NULL, \(claims.vin.value), \(claims.feature.value),
                    \(claims.term.rawValue), \(activation.channel), \(claims.dealer?.value), \(activation.market.code), \(activation.gross.currency.code),
                    \(activation.gross.minor), \(activation.vat.value), \(claims.id.value))
            """)
        try await tx.query("""
            INSERT INTO consent (entitlement_id, terms_version, immediate_start, acknowledged_at, recorded_at)
            VALUES (\(claims.id.value), \(consent.termsVersion), \(consent.immediateStart), \(consent.acknowledgedAt), \(now))
            """)
    }

    public func cancelSubscription(_ id: EntitlementID, actor: String, at now: Int64) async throws -> StoredEntitlement {
        try await write("subscription cancel") { tx in
            var current = id
            while true {
                var next: String?
                for try await found in try await tx.query("SELECT next_id FROM renewal WHERE previous_id = \(current.value)").decode(String.self) { next = found }
                guard let next else { break }
                current = try StoreRows.stored { try EntitlementID(next) }
            }
            guard let stored = try await PostgresStore.entitlements(try await tx.query(
                "SELECT \(unescaped: PostgresStore.entitlementColumns) FROM entitlement WHERE id = \(current.value)")).first else {
                throw StoreError(.notFound, "no entitlement \(id)")
            }
            guard stored.claims.term == .subscription else { throw StoreError(.invalid, "entitlement \(id) is not a subscription") }
            try StoreRows.requireRunning(stored, at: now)
            guard try await tx.count("""
                INSERT INTO cancellation (entitlement_id, cancelled_at) VALUES (\(current.value), \(now)) ON CONFLICT (entitlement_id) DO NOTHING RETURNING 1
                """) == 1 else { throw StoreError(.conflict, "the subscription \(id) is cancelled already") }
            try await tx.audit(at: now, actor: actor, action: "subscription.cancel", subject: current.value,
                               details: "ends=\(stored.claims.expiresAt.map { Instant(unixSeconds: $0).rfc3339 } ?? "-")")
            return stored
        }
    }

    public func expiring(at now: Int64, until: Int64, dealer: DealerID?) async throws -> [StoredEntitlement] {
        try await read("expiring read") { connection in
            try await PostgresStore.entitlements(try await connection.query("""
                SELECT \(unescaped: PostgresStore.entitlementColumns) FROM entitlement e
                WHERE e.revoked_at IS NULL AND e.expires_at > \(now) AND e.expires_at <= \(until)
                  AND (\(dealer?.value)::text IS NULL OR e.dealer_id = \(dealer?.value))
                  AND NOT EXISTS (SELECT 1 FROM renewal r WHERE r.previous_id = e.id)
                  AND NOT EXISTS (SELECT 1 FROM entitlement n WHERE n.vin = e.vin AND n.feature = e.feature AND n.id <> e.id AND n.revoked_at IS NULL
                                    AND (n.expires_at IS NULL OR n.expires_at > e.expires_at))
                  AND (e.term <> 'subscription' OR EXISTS (SELECT 1 FROM cancellation c WHERE c.entitlement_id = e.id))
                ORDER BY e.expires_at, e.id LIMIT 1000
                """, logger: self.logger))
        }
    }
}
