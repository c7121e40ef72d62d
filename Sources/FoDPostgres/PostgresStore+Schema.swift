import FoDStore
import Foundation
import PostgresNIO

extension PostgresStore {
    /// The schema in PostgreSQL's dialect: the tables of ``FoDDatabase``'s migrations `v1` to
    /// `v6`, as they stand, with `BIGINT` for SQLite's integers and `BYTEA` for its BLOBs.
    /// Shipped migrations are never edited; changes are new migrations, in both dialects.
    static let migrations: [(id: String, sql: [String])] = [
        ("pg-v1", [
            "CREATE TABLE dealer (id TEXT PRIMARY KEY, name TEXT NOT NULL, market TEXT NOT NULL)",
            """
            CREATE TABLE vehicle (
              vin TEXT PRIMARY KEY, model TEXT NOT NULL, model_year BIGINT NOT NULL, market TEXT NOT NULL,
              equipment TEXT NOT NULL, dealer_id TEXT, created_at BIGINT NOT NULL)
            """,
            """
            CREATE TABLE entitlement (
              id TEXT PRIMARY KEY, issuer TEXT NOT NULL, vin TEXT NOT NULL, feature TEXT NOT NULL, term TEXT NOT NULL, dealer_id TEXT,
              issued_at BIGINT NOT NULL, not_before BIGINT NOT NULL, expires_at BIGINT, token TEXT NOT NULL,
              revoked_at BIGINT, revoke_reason TEXT)
            """,
            "CREATE INDEX entitlement_vin ON entitlement (vin)",
            // Every instance asks for new revocations each second.
            "CREATE INDEX entitlement_revoked ON entitlement (revoked_at) WHERE revoked_at IS NOT NULL",
            """
            CREATE TABLE event (
              event_id TEXT PRIMARY KEY, occurred_at BIGINT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('activation', 'refund')),
              refers_to TEXT, vin TEXT, feature TEXT, term TEXT, channel TEXT, dealer_id TEXT, market TEXT, currency TEXT,
              gross_minor BIGINT, vat_bps BIGINT, entitlement_id TEXT)
            """,
            "CREATE INDEX event_time ON event (occurred_at)",
            "CREATE INDEX event_dealer ON event (dealer_id, occurred_at)",
            "CREATE INDEX event_refers_to ON event (refers_to)",
            """
            CREATE TABLE api_key (
              id TEXT PRIMARY KEY, secret_sha256 TEXT NOT NULL UNIQUE, role TEXT NOT NULL, dealer_id TEXT,
              label TEXT NOT NULL, created_at BIGINT NOT NULL, revoked_at BIGINT)
            """,
            """
            CREATE TABLE idempotency (
              principal TEXT NOT NULL, key TEXT NOT NULL, request_sha256 TEXT NOT NULL, status BIGINT NOT NULL,
              body BYTEA NOT NULL, created_at BIGINT NOT NULL, PRIMARY KEY (principal, key))
            """,
            "CREATE TABLE manifest_version (vin TEXT PRIMARY KEY, version BIGINT NOT NULL, content_sha256 TEXT NOT NULL, issued_at BIGINT NOT NULL)",
            """
            CREATE TABLE audit (
              seq BIGINT PRIMARY KEY, at BIGINT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, subject TEXT NOT NULL,
              details TEXT NOT NULL, prev_sha256 TEXT NOT NULL, sha256 TEXT NOT NULL)
            """,
            """
            CREATE TABLE web_session (
              id_sha256 TEXT PRIMARY KEY, api_key_id TEXT NOT NULL REFERENCES api_key (id), csrf TEXT NOT NULL,
              created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL)
            """,
            "CREATE INDEX web_session_expiry ON web_session (expires_at)",
            "CREATE TABLE catalog_version (id BIGINT PRIMARY KEY CHECK (id = 1), version TEXT NOT NULL)",
            "CREATE TABLE catalog_feature (code TEXT PRIMARY KEY, position BIGINT NOT NULL, name TEXT NOT NULL, min_model_year BIGINT)",
            """
            CREATE TABLE catalog_feature_model (
              feature TEXT NOT NULL REFERENCES catalog_feature (code) ON DELETE CASCADE, model TEXT NOT NULL, PRIMARY KEY (feature, model))
            """,
            """
            CREATE TABLE catalog_equipment_rule (
              feature TEXT NOT NULL REFERENCES catalog_feature (code) ON DELETE CASCADE,
              kind TEXT NOT NULL CHECK (kind IN ('requires', 'excludes')), equipment TEXT NOT NULL, position BIGINT NOT NULL,
              PRIMARY KEY (feature, kind, equipment))
            """,
            """
            CREATE TABLE catalog_price (
              feature TEXT NOT NULL REFERENCES catalog_feature (code) ON DELETE CASCADE, market TEXT NOT NULL, term TEXT NOT NULL,
              currency TEXT NOT NULL, gross_minor BIGINT NOT NULL CHECK (gross_minor >= 0),
              vat_bps BIGINT NOT NULL CHECK (vat_bps BETWEEN 0 AND 10000), position BIGINT NOT NULL, PRIMARY KEY (feature, market, term))
            """,
            "CREATE TABLE equipment (code TEXT PRIMARY KEY, name TEXT NOT NULL)",
            "CREATE TABLE health (id BIGINT PRIMARY KEY CHECK (id = 1), checked_at BIGINT NOT NULL)",
            "CREATE TABLE shared_secret (name TEXT PRIMARY KEY, secret TEXT NOT NULL)",
        ]),
        // SQLite's v8-sales.
        ("pg-v2-sales", [
            """
            CREATE TABLE vehicle_dealer (
              vin TEXT NOT NULL, valid_from BIGINT NOT NULL, dealer_id TEXT NOT NULL, recorded_at BIGINT NOT NULL,
              PRIMARY KEY (vin, valid_from))
            """,
            """
            CREATE TABLE consent (
              entitlement_id TEXT PRIMARY KEY, terms_version TEXT, immediate_start BOOLEAN NOT NULL, acknowledged_at BIGINT,
              recorded_at BIGINT NOT NULL)
            """,
        ]),
        // SQLite's v9-renewals.
        ("pg-v3-renewals", [
            "CREATE TABLE renewal (previous_id TEXT PRIMARY KEY, next_id TEXT NOT NULL UNIQUE, renewed_at BIGINT NOT NULL)",
            "CREATE TABLE cancellation (entitlement_id TEXT PRIMARY KEY, cancelled_at BIGINT NOT NULL)",
            "CREATE INDEX entitlement_expiry ON entitlement (expires_at) WHERE revoked_at IS NULL",
        ]),
        // SQLite's v10-reinstatement.
        ("pg-v4-reinstatement", [
            """
            CREATE TABLE reinstatement (
              entitlement_id TEXT NOT NULL, reinstated_at BIGINT NOT NULL, revoked_at BIGINT, revoke_reason TEXT, reason TEXT NOT NULL)
            """,
            "CREATE INDEX reinstatement_time ON reinstatement (reinstated_at)",
        ]),
        // SQLite's v11-transfer.
        ("pg-v5-transfer", [
            "ALTER TABLE catalog_feature ADD COLUMN transferable BOOLEAN NOT NULL DEFAULT TRUE",
            "CREATE TABLE ownership_transfer (vin TEXT NOT NULL, effective_at BIGINT NOT NULL, recorded_at BIGINT NOT NULL, PRIMARY KEY (vin, effective_at))",
        ]),
        // Closing (SQLite's v12): `event.recorded` from a sequence, which every writer draws from
        // under the write lock, so it numbers events in commit order.
        ("pg-v6-periods", FoDDatabase.periodSchema.replacingOccurrences(of: "INTEGER", with: "BIGINT")
            .replacingOccurrences(of: "ALTER TABLE event ADD COLUMN recorded BIGINT;", with: "ALTER TABLE event ADD COLUMN recorded BIGSERIAL;")
            .split(separator: ";").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }),
        // The outbox and the webhooks (SQLite's v13).
        ("pg-v7-outbox-webhooks", FoDDatabase.outboxSchema.replacingOccurrences(of: "INTEGER", with: "BIGINT")
            .split(separator: ";").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }),
        // The root versions taken (SQLite's v14).
        ("pg-v8-trust-roots", [FoDDatabase.trustRootSchema.replacingOccurrences(of: "INTEGER", with: "BIGINT")]),
        // The keys that signed statements (SQLite's v15).
        ("pg-v9-statement-keys", [FoDDatabase.statementKeySchema.replacingOccurrences(of: "INTEGER", with: "BIGINT")]),
    ]

    /// Applies the migrations not yet applied, each in its own transaction, under a session
    /// advisory lock so that instances starting together migrate once.
    /// - Returns: whether the first migration was applied now (the database was new).
    /// - Throws: ``StoreError`` `store_database`.
    func migrate() async throws -> Bool {
        do {
            return try await client.withConnection { connection in
                try await connection.query("SELECT pg_advisory_lock(\(PostgresStore.writeLockKey + 1), hashtext(coalesce(current_schema(), '')))", logger: self.logger)
                do {
                    if let schema { try await connection.query("CREATE SCHEMA IF NOT EXISTS \(unescaped: schema)", logger: self.logger) }
                    try await connection.query("CREATE TABLE IF NOT EXISTS fod_migration (id TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)", logger: self.logger)
                    var applied: Set<String> = []
                    for try await id in try await connection.query("SELECT id FROM fod_migration", logger: self.logger).decode(String.self) { applied.insert(id) }
                    let isNew = applied.isEmpty
                    for migration in PostgresStore.migrations where !applied.contains(migration.id) {
                        try await connection.query("BEGIN", logger: self.logger)
                        do {
                            for statement in migration.sql { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger) }
                            try await connection.query("INSERT INTO fod_migration (id, applied_at) VALUES (\(migration.id), extract(epoch from now())::bigint)",
                                                       logger: self.logger)
                            try await connection.query("COMMIT", logger: self.logger)
                        } catch {
                            _ = try? await connection.query("ROLLBACK", logger: self.logger)
                            throw error
                        }
                    }
                    _ = try await connection.query("SELECT pg_advisory_unlock_all()", logger: self.logger)
                    return isNew
                } catch {
                    _ = try? await connection.query("SELECT pg_advisory_unlock_all()", logger: self.logger)
                    throw error
                }
            }
        } catch {
            throw PostgresStore.storeError(error, "migration failed")
        }
    }
}
