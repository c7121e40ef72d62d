import FoDCore
import FoDStore
import PostgresNIO

extension PostgresStore {
    public func events(after seq: Int64, limit: Int, dealer: String?) async throws -> [OutboxEvent] {
        try await read("events read") { connection in
            var out: [OutboxEvent] = []
            for try await row in try await connection.query("""
                SELECT seq, type, occurred_at, subject, dealer_id, data FROM outbox
                WHERE seq > \(seq) AND (\(dealer)::text IS NULL OR dealer_id = \(dealer)) ORDER BY seq LIMIT \(Int64(limit))
                """, logger: self.logger).decode((Int64, String, Int64, String, String?, String).self) {
                out.append(OutboxEvent(seq: row.0, type: row.1, occurredAt: row.2, subject: row.3, dealerID: row.4, data: row.5))
            }
            return out
        }
    }

    public func createWebhook(url: String, types: [String], secret: String, actor: String, at now: Int64) async throws -> WebhookEndpoint {
        try await write("webhook create") { tx in
            let id = PeriodRows.newID("wh")
            var position: Int64 = 0
            for try await value in try await tx.query("SELECT COALESCE(MAX(seq), 0)::BIGINT FROM outbox").decode(Int64.self) { position = value }
            try await tx.query("""
                INSERT INTO webhook_endpoint (id, url, types, secret, created_at, position, next_attempt_ms, lease_until_ms)
                VALUES (\(id), \(url), \(WebhookEndpoint.storedTypes(types)), \(secret), \(now), \(position), 0, 0)
                """)
            try await tx.audit(at: now, actor: actor, action: "webhook.create", subject: id,
                               details: "url=\(url) types=\(types.isEmpty ? "*" : types.joined(separator: ","))")
            return WebhookEndpoint(id: id, url: url, types: types, createdAt: now, position: position, nextAttemptMs: 0, secret: secret)
        }
    }

    static let endpointColumns = "w.id, w.url, w.types, w.secret, w.created_at, w.position, w.next_attempt_ms"

    static func endpoints(_ rows: PostgresRowSequence) async throws -> [WebhookEndpoint] {
        var out: [WebhookEndpoint] = []
        for try await row in rows.decode((String, String, String, String, Int64, Int64, Int64).self) {
            out.append(WebhookEndpoint(id: row.0, url: row.1, types: WebhookEndpoint.types(stored: row.2), createdAt: row.4, position: row.5,
                                       nextAttemptMs: row.6, secret: row.3))
        }
        return out
    }

    public func webhooks() async throws -> [WebhookEndpoint] {
        try await read("webhooks read") { connection in
            try await PostgresStore.endpoints(try await connection.query(
                "SELECT \(unescaped: PostgresStore.endpointColumns) FROM webhook_endpoint w WHERE w.deleted_at IS NULL ORDER BY w.created_at, w.id", logger: self.logger))
        }
    }

    public func webhook(_ id: String) async throws -> WebhookEndpoint? {
        try await read("webhook read") { connection in
            guard var endpoint = try await PostgresStore.endpoints(try await connection.query(
                "SELECT \(unescaped: PostgresStore.endpointColumns) FROM webhook_endpoint w WHERE w.id = \(id)", logger: self.logger)).first else { return nil }
            for try await deleted in try await connection.query("SELECT deleted_at FROM webhook_endpoint WHERE id = \(id)", logger: self.logger).decode(Int64?.self) {
                endpoint.deletedAt = deleted
            }
            return endpoint
        }
    }

    public func deleteWebhook(_ id: String, actor: String, at now: Int64) async throws {
        try await write("webhook delete") { tx in
            guard try await tx.count("UPDATE webhook_endpoint SET deleted_at = \(now) WHERE id = \(id) AND deleted_at IS NULL RETURNING 1") == 1 else {
                throw StoreError(.notFound, "no webhook endpoint \(id)")
            }
            try await tx.audit(at: now, actor: actor, action: "webhook.delete", subject: id, details: "")
        }
    }

    /// Claims with `FOR UPDATE SKIP LOCKED`, outside the write lock: instances claim different
    /// endpoints at once, and the lease keeps one endpoint with one instance until it records.
    public func claimWebhook(owner: String, nowMs: Int64, leaseMs: Int64, limit: Int) async throws -> WebhookClaim? {
        try await unlocked("webhook claim") { connection in
            var found: (WebhookEndpoint, Int64)?
            for try await row in try await connection.query("""
                SELECT \(unescaped: PostgresStore.endpointColumns), n.seq FROM webhook_endpoint w
                CROSS JOIN LATERAL (SELECT o.seq FROM outbox o WHERE o.seq > w.position
                                    AND (w.types = '*' OR position(',' || o.type || ',' in w.types) > 0) ORDER BY o.seq LIMIT 1) n
                WHERE w.deleted_at IS NULL AND w.next_attempt_ms <= \(nowMs) AND w.lease_until_ms < \(nowMs)
                ORDER BY w.next_attempt_ms, w.id LIMIT 1 FOR UPDATE OF w SKIP LOCKED
                """, logger: self.logger).decode((String, String, String, String, Int64, Int64, Int64, Int64).self) {
                found = (WebhookEndpoint(id: row.0, url: row.1, types: WebhookEndpoint.types(stored: row.2), createdAt: row.4, position: row.5,
                                         nextAttemptMs: row.6, secret: row.3), row.7)
            }
            guard let (endpoint, seq) = found else { return nil }
            try await connection.query("UPDATE webhook_endpoint SET lease_owner = \(owner), lease_until_ms = \(nowMs + leaseMs) WHERE id = \(endpoint.id)",
                                       logger: self.logger)
            var events: [OutboxEvent] = []
            for try await row in try await connection.query("""
                SELECT seq, type, occurred_at, subject, dealer_id, data FROM outbox
                WHERE seq >= \(seq) AND (\(endpoint.storedTypes) = '*' OR position(',' || type || ',' in \(endpoint.storedTypes)) > 0) ORDER BY seq LIMIT \(Int64(limit))
                """, logger: self.logger).decode((Int64, String, Int64, String, String?, String).self) {
                events.append(OutboxEvent(seq: row.0, type: row.1, occurredAt: row.2, subject: row.3, dealerID: row.4, data: row.5))
            }
            guard !events.isEmpty else { return nil }
            var earlier: (String, Int64, Int64)?
            for try await row in try await connection.query("""
                SELECT status, attempts, first_attempt_at FROM webhook_delivery WHERE endpoint_id = \(endpoint.id) AND seq = \(seq)
                """, logger: self.logger).decode((String, Int64, Int64).self) { earlier = row }
            return WebhookRows.claim(endpoint, events, status: earlier?.0, attempts: earlier?.1, first: earlier?.2, nowMs: nowMs)
        }
    }

    public func recordAttempts(_ claim: WebhookClaim, owner: String, _ attempts: [WebhookAttempt]) async throws {
        try await unlocked("webhook attempt") { connection in
            let (position, next) = WebhookRows.position(after: attempts, claim)
            let changed = try await connection.query("""
                UPDATE webhook_endpoint SET position = \(position), next_attempt_ms = \(next), lease_owner = NULL, lease_until_ms = 0
                WHERE id = \(claim.endpoint.id) AND lease_owner = \(owner) AND position = \(claim.endpoint.position) RETURNING 1
                """, logger: self.logger).collect().count
            guard changed == 1 else { return }
            // One statement for the claim's attempts (arrays unnested in order; -1 and '' stand for no status and no error).
            let results = attempts.map { WebhookRows.result($0.outcome) }
            try await connection.query("""
                INSERT INTO webhook_delivery (endpoint_id, seq, status, attempts, first_attempt_at, last_attempt_at, last_status, last_error)
                SELECT \(claim.endpoint.id), a.seq, a.status, a.attempts, a.first_at, a.last_at, NULLIF(a.code, -1), NULLIF(a.error, '')
                FROM unnest(\(attempts.map(\.seq))::bigint[], \(results.map(\.0.rawValue))::text[], \(attempts.map(\.attempts))::bigint[],
                  \(attempts.map(\.firstAttemptMs))::bigint[], \(attempts.map(\.atMs))::bigint[], \(results.map { $0.1 ?? -1 })::bigint[],
                  \(results.map { $0.2 ?? "" })::text[]) AS a (seq, status, attempts, first_at, last_at, code, error)
                ON CONFLICT (endpoint_id, seq) DO UPDATE SET status = excluded.status, attempts = excluded.attempts,
                  first_attempt_at = excluded.first_attempt_at, last_attempt_at = excluded.last_attempt_at,
                  last_status = excluded.last_status, last_error = excluded.last_error
                """, logger: self.logger)
        }
    }

    public func deliveries(of id: String, limit: Int) async throws -> [WebhookDelivery] {
        try await read("webhook deliveries") { connection in
            var out: [WebhookDelivery] = []
            for try await row in try await connection.query("""
                SELECT endpoint_id, seq, status, attempts, first_attempt_at, last_attempt_at, last_status, last_error FROM webhook_delivery
                WHERE endpoint_id = \(id) ORDER BY seq DESC LIMIT \(Int64(limit))
                """, logger: self.logger).decode((String, Int64, String, Int64, Int64, Int64, Int64?, String?).self) {
                out.append(WebhookDelivery(endpointID: row.0, seq: row.1, status: WebhookDelivery.Status(rawValue: row.2) ?? .retrying, attempts: row.3,
                                           firstAttemptMs: row.4, lastAttemptMs: row.5, lastStatus: row.6, lastError: row.7))
            }
            return out
        }
    }

    public func rewindWebhook(_ id: String, after seq: Int64?, actor: String, at now: Int64) async throws -> WebhookEndpoint {
        try await write("webhook rewind") { tx in
            let changed: Int
            if let seq {
                changed = try await tx.count("UPDATE webhook_endpoint SET position = \(seq), next_attempt_ms = 0 WHERE id = \(id) AND deleted_at IS NULL RETURNING 1")
            } else {
                changed = try await tx.count("UPDATE webhook_endpoint SET next_attempt_ms = 0 WHERE id = \(id) AND deleted_at IS NULL RETURNING 1")
            }
            guard changed == 1, let endpoint = try await PostgresStore.endpoints(try await tx.query(
                "SELECT \(unescaped: PostgresStore.endpointColumns) FROM webhook_endpoint w WHERE w.id = \(id)")).first else {
                throw StoreError(.notFound, "no webhook endpoint \(id)")
            }
            try await tx.audit(at: now, actor: actor, action: seq == nil ? "webhook.retry" : "webhook.replay", subject: id, details: seq.map { "after=\($0)" } ?? "")
            return endpoint
        }
    }

    /// A short transaction without the write lock (the webhook bookkeeping: its rows are locked
    /// one by one, nothing of the ledger is written).
    func unlocked<T: Sendable>(_ what: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await PostgresStore.bounded(PostgresStore.writeTimeout, what) { [client, logger] in try await client.withConnection { connection in
                try await PostgresStore.transaction(connection, "BEGIN", logger, body)
            } }
        } catch {
            throw PostgresStore.storeError(error, what)
        }
    }
}
