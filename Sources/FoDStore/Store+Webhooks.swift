import FoDCore

extension SQLStore {
    public func events(after seq: Int64, limit: Int, dealer: String?) async throws -> [OutboxEvent] {
        try await fetch("events read", sql: "SELECT \(WebhookRows.eventColumns) FROM outbox o WHERE seq > ?1 AND (CAST(?2 AS TEXT) IS NULL OR dealer_id = ?2) ORDER BY seq LIMIT ?3",
                        arguments: [seq, dealer, limit]).map(WebhookRows.event)
    }

    public func createWebhook(url: String, types: [String], secret: String, actor: String, at now: Int64) async throws -> WebhookEndpoint {
        try await write { db in
            let id = PeriodRows.newID("wh")
            let position = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) FROM outbox") ?? 0
            try db.execute(sql: """
                INSERT INTO webhook_endpoint (id, url, types, secret, created_at, position, next_attempt_ms, lease_until_ms) VALUES (?, ?, ?, ?, ?, ?, 0, 0)
                """, arguments: [id, url, WebhookEndpoint.storedTypes(types), secret, now, position])
            try db.appendAudit(at: now, actor: actor, action: "webhook.create", subject: id,
                               details: "url=\(url) types=\(types.isEmpty ? "*" : types.joined(separator: ","))")
            return WebhookEndpoint(id: id, url: url, types: types, createdAt: now, position: position, nextAttemptMs: 0, secret: secret)
        }
    }

    public func webhooks() async throws -> [WebhookEndpoint] {
        try await read { db in try SQLRow.fetchAll(db, sql: "SELECT * FROM webhook_endpoint WHERE deleted_at IS NULL ORDER BY created_at, id").map(WebhookRows.endpoint) }
    }

    public func webhook(_ id: String) async throws -> WebhookEndpoint? {
        try await read { db in
            try SQLRow.fetchOne(db, sql: "SELECT * FROM webhook_endpoint WHERE id = ?", arguments: [id]).map { row in
                var endpoint = WebhookRows.endpoint(row)
                endpoint.deletedAt = row["deleted_at"]
                return endpoint
            }
        }
    }

    public func deleteWebhook(_ id: String, actor: String, at now: Int64) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE webhook_endpoint SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL", arguments: [now, id])
            guard db.changesCount == 1 else { throw StoreError(.notFound, "no webhook endpoint \(id)") }
            try db.appendAudit(at: now, actor: actor, action: "webhook.delete", subject: id, details: "")
        }
    }

    /// Claims the endpoint due first that has an event to deliver, with a lease. Outside the write
    /// lock: the endpoint's row is locked (`FOR UPDATE SKIP LOCKED` on PostgreSQL: instances claim
    /// different endpoints at once), and the lease keeps it with this instance until it records.
    public func claimWebhook(owner: String, nowMs: Int64, leaseMs: Int64, limit: Int) async throws -> WebhookClaim? {
        // A read first: an idle poll (nothing due, or nothing new for the endpoints due) changes nothing.
        let candidate: @Sendable (SQLDialect) -> String = { dialect in """
            SELECT * FROM (
              SELECT w.id, w.next_attempt_ms, (SELECT o.seq FROM outbox o WHERE o.seq > w.position
                                                 AND (w.types = '*' OR \(dialect.contains("w.types", "',' || o.type || ','"))) ORDER BY o.seq LIMIT 1) AS next_seq
              FROM webhook_endpoint w WHERE w.deleted_at IS NULL AND w.next_attempt_ms <= ? AND w.lease_until_ms < ?) c
            WHERE next_seq IS NOT NULL ORDER BY next_attempt_ms, id LIMIT 1
            """ }
        guard try await read("webhook poll", { db in try SQLRow.fetchOne(db, sql: candidate(db.dialect), arguments: [nowMs, nowMs]) != nil }) else { return nil }
        return try await transaction(.unlocked, "webhook claim") { db in
            guard let due = try SQLRow.fetchOne(db, sql: candidate(db.dialect), arguments: [nowMs, nowMs]), let seq: Int64 = due["next_seq"],
                  let row = try SQLRow.fetchOne(db, sql: "SELECT * FROM webhook_endpoint WHERE id = ? AND lease_until_ms < ?\(db.dialect.skipLocked)",
                                                arguments: [due["id"] as String, nowMs]) else { return nil }
            let endpoint = WebhookRows.endpoint(row)
            try db.execute(sql: "UPDATE webhook_endpoint SET lease_owner = ?, lease_until_ms = ? WHERE id = ?", arguments: [owner, nowMs + leaseMs, endpoint.id])
            let events = try SQLRow.fetchAll(db, sql: """
                SELECT \(WebhookRows.eventColumns) FROM outbox o WHERE seq >= ? AND (? = '*' OR \(db.dialect.contains("?", "',' || type || ','"))) ORDER BY seq LIMIT ?
                """, arguments: [seq, endpoint.storedTypes, endpoint.storedTypes, limit]).map(WebhookRows.event)
            guard !events.isEmpty else { return nil }
            let earlier = try SQLRow.fetchOne(db, sql: "SELECT status, attempts, first_attempt_at FROM webhook_delivery WHERE endpoint_id = ? AND seq = ?",
                                              arguments: [endpoint.id, seq])
            return WebhookRows.claim(endpoint, events, status: earlier?["status"], attempts: earlier?["attempts"], first: earlier?["first_attempt_at"], nowMs: nowMs)
        }
    }

    public func recordAttempts(_ claim: WebhookClaim, owner: String, _ attempts: [WebhookAttempt]) async throws {
        try await transaction(.unlocked, "webhook attempts") { db in
            let (position, next) = WebhookRows.position(after: attempts, claim)
            try db.execute(sql: """
                UPDATE webhook_endpoint SET position = ?, next_attempt_ms = ?, lease_owner = NULL, lease_until_ms = 0
                WHERE id = ? AND lease_owner = ? AND position = ?
                """, arguments: [position, next, claim.endpoint.id, owner, claim.endpoint.position])
            guard db.changesCount == 1 else { return }
            var arguments = SQLArguments([])
            for attempt in attempts {
                let (status, code, error) = WebhookRows.result(attempt.outcome)
                arguments += [claim.endpoint.id, attempt.seq, status.rawValue, attempt.attempts, attempt.firstAttemptMs, attempt.atMs, code, error]
            }
            guard !attempts.isEmpty else { return }
            try db.execute(sql: """
                INSERT INTO webhook_delivery (endpoint_id, seq, status, attempts, first_attempt_at, last_attempt_at, last_status, last_error)
                VALUES \(SQLText.rows(attempts.count, columns: 8))
                ON CONFLICT (endpoint_id, seq) DO UPDATE SET status = excluded.status, attempts = excluded.attempts,
                  first_attempt_at = excluded.first_attempt_at, last_attempt_at = excluded.last_attempt_at,
                  last_status = excluded.last_status, last_error = excluded.last_error
                """, arguments: arguments)
        }
    }

    public func deliveries(of id: String, limit: Int) async throws -> [WebhookDelivery] {
        try await read { db in
            try SQLRow.fetchAll(db, sql: "SELECT * FROM webhook_delivery WHERE endpoint_id = ? ORDER BY seq DESC LIMIT ?", arguments: [id, limit]).map(WebhookRows.delivery)
        }
    }

    public func rewindWebhook(_ id: String, after seq: Int64?, actor: String, at now: Int64) async throws -> WebhookEndpoint {
        try await write { db in
            if let seq {
                try db.execute(sql: "UPDATE webhook_endpoint SET position = ?, next_attempt_ms = 0 WHERE id = ? AND deleted_at IS NULL", arguments: [seq, id])
            } else {
                try db.execute(sql: "UPDATE webhook_endpoint SET next_attempt_ms = 0 WHERE id = ? AND deleted_at IS NULL", arguments: [id])
            }
            guard db.changesCount == 1, let row = try SQLRow.fetchOne(db, sql: "SELECT * FROM webhook_endpoint WHERE id = ?", arguments: [id]) else {
                throw StoreError(.notFound, "no webhook endpoint \(id)")
            }
            try db.appendAudit(at: now, actor: actor, action: seq == nil ? "webhook.retry" : "webhook.replay", subject: id,
                               details: seq.map { "after=\($0)" } ?? "")
            return WebhookRows.endpoint(row)
        }
    }
}

/// What both stores do alike for webhooks.
public enum WebhookRows {
    /// An event's columns (`FROM outbox o`), with who made it: the actor of the audit entry of the
    /// same `seq` (an event's `seq` is its audit entry's), read there, not kept twice.
    static let eventColumns = "o.*, (SELECT a.actor FROM audit a WHERE a.seq = o.seq) AS actor"

    static func event(_ row: SQLRow) -> OutboxEvent {
        OutboxEvent(seq: row["seq"], type: row["type"], occurredAt: row["occurred_at"], subject: row["subject"], dealerID: row["dealer_id"], data: row["data"], actor: row["actor"])
    }

    static func endpoint(_ row: SQLRow) -> WebhookEndpoint {
        WebhookEndpoint(id: row["id"], url: row["url"], types: WebhookEndpoint.types(stored: row["types"]), createdAt: row["created_at"],
                        position: row["position"], nextAttemptMs: row["next_attempt_ms"], secret: row["secret"])
    }

    static func delivery(_ row: SQLRow) -> WebhookDelivery {
        WebhookDelivery(endpointID: row["endpoint_id"], seq: row["seq"], status: WebhookDelivery.Status(rawValue: row["status"]) ?? .retrying,
                        attempts: row["attempts"], firstAttemptMs: row["first_attempt_at"], lastAttemptMs: row["last_attempt_at"],
                        lastStatus: row["last_status"], lastError: row["last_error"])
    }

    /// The claim; an earlier delivery of the first event counts only while it is still being
    /// retried (after a replay, the event starts over).
    public static func claim(_ endpoint: WebhookEndpoint, _ events: [OutboxEvent], status: String?, attempts: Int64?, first: Int64?, nowMs: Int64) -> WebhookClaim {
        let retrying = status == WebhookDelivery.Status.retrying.rawValue
        return WebhookClaim(endpoint: endpoint, events: events, attempts: retrying ? attempts ?? 0 : 0, firstAttemptMs: retrying ? first ?? nowMs : nowMs)
    }

    /// The endpoint's new position (the last event delivered or given up) and its next attempt
    /// (when the last attempt is to be retried; 0: at once).
    public static func position(after attempts: [WebhookAttempt], _ claim: WebhookClaim) -> (Int64, Int64) {
        var position = claim.endpoint.position
        for attempt in attempts {
            switch attempt.outcome {
            case .delivered, .failed: position = attempt.seq
            case .retry(_, _, let next): return (position, next)
            }
        }
        return (position, 0)
    }

    /// A delivery's status, HTTP status and error.
    public static func result(_ outcome: WebhookOutcome) -> (WebhookDelivery.Status, Int64?, String?) {
        switch outcome {
        case .delivered(let status): (.delivered, status, nil)
        case .retry(let status, let error, _): (.retrying, status, error)
        case .failed(let status, let error): (.failed, status, error)
        }
    }
}
