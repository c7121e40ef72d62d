import FoDEntitlements
import Foundation
import GRDB

/// fod's database: SQLite through GRDB, a `DatabasePool` in WAL mode with `synchronous = FULL`,
/// so a transaction that returned is on disk. Migrations run when it opens.
public struct FoDDatabase: Sendable {
    /// The writer (a pool for files, a queue in memory).
    let writer: any DatabaseWriter
    /// Whether this open created the database (there was no file): only then may a caller seed it
    /// (fixtures, a first admin key).
    public let isNew: Bool

    /// Opens (creating if needed) the database file at `path` and migrates it. A file that exists
    /// but is not an SQLite database — empty, truncated to nothing, or anything else — is refused,
    /// never taken for a new database.
    /// - Throws: ``StoreError`` `store_database`.
    public init(path: String) throws {
        isNew = !FileManager.default.fileExists(atPath: path)
        if !isNew { try FoDDatabase.checkIsSQLite(path) }
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        // A write waits at most this long for another writer (another process on the file, a
        // backup); then the caller gets `store_busy` and may retry, instead of hanging.
        configuration.busyMode = .timeout(FoDDatabase.busyTimeout)
        do {
            writer = try DatabasePool(path: path, configuration: configuration)
            try FoDDatabase.migrator.migrate(writer)
        } catch {
            throw StoreError(.database, "cannot open the database at \(path): \(error)")
        }
    }

    /// A database in memory (tests).
    /// - Throws: ``StoreError`` `store_database`.
    public static func inMemory() throws -> FoDDatabase {
        try FoDDatabase(writer: DatabaseQueue())
    }

    /// Refuses a file that does not start with SQLite's header.
    private static func checkIsSQLite(_ path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw StoreError(.database, "the database file \(path) exists but cannot be read (check its owner and mode)")
        }
        defer { try? handle.close() }
        let header = (try? handle.read(upToCount: 16)) ?? Data()
        guard !header.isEmpty else {
            throw StoreError(.database, "the database file \(path) is empty (0 bytes): restore it from a backup; fod does not start a new service over it")
        }
        guard header == Data("SQLite format 3\u{0}".utf8) else {
            throw StoreError(.database, "the file \(path) is not an SQLite database (it may be damaged): restore it from a backup")
        }
    }

    private init(writer: any DatabaseWriter) throws {
        self.writer = writer
        isNew = true
        do { try FoDDatabase.migrator.migrate(writer) } catch { throw StoreError(.database, "migration failed: \(error)") }
    }

    /// Whether the database answers (readiness).
    public func ping() -> Bool {
        (try? writer.read { db in try Int.fetchOne(db, sql: "SELECT 1") }) == 1
    }

    /// Seconds a write waits for the database lock.
    public static let busyTimeout: TimeInterval = 3

    /// Runs a write transaction, mapping errors to ``StoreError``. Its end writes the audit
    /// entries it appended and their events into the outbox (``AuditBuffer``), in the same transaction.
    func write<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        do {
            return try writer.write { db in
                let connection = SQLiteConnection(db)
                let result = try body(connection)
                try connection.audit.flush(connection)
                return result
            }
        } catch let error as StoreError { throw error } catch {
            throw FoDDatabase.storeError(error, "write failed")
        }
    }

    /// Runs a read transaction on an ``SQLConnection``.
    func readSQL<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try read { db in try body(SQLiteConnection(db)) }
    }

    /// Runs a read, mapping errors to ``StoreError``.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try writer.read(body) } catch let error as StoreError { throw error } catch {
            throw FoDDatabase.storeError(error, "read failed")
        }
    }

    /// A database failure as ``StoreError``: `store_busy` when the lock was not had in time, else
    /// `store_database` with SQLite's message (which never holds statement arguments).
    static func storeError(_ error: any Error, _ what: String) -> StoreError {
        if let error = error as? DatabaseError, error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED {
            return StoreError(.busy, "\(what): the database stayed locked for \(Int(busyTimeout)) s (\(error.message ?? "busy"))")
        }
        return StoreError(.database, "\(what): \(error)")
    }

    /// The schema. Shipped migrations are never edited; changes are new migrations.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
            CREATE TABLE dealer (id TEXT PRIMARY KEY, name TEXT NOT NULL, market TEXT NOT NULL);
            CREATE TABLE vehicle (
              vin TEXT PRIMARY KEY, model TEXT NOT NULL, model_year INTEGER NOT NULL, market TEXT NOT NULL,
              equipment TEXT NOT NULL, dealer_id TEXT, created_at INTEGER NOT NULL);
            CREATE TABLE catalog (id INTEGER PRIMARY KEY CHECK (id = 1), version TEXT NOT NULL, document TEXT NOT NULL);
            CREATE TABLE entitlement (
              id TEXT PRIMARY KEY, issuer TEXT NOT NULL, vin TEXT NOT NULL, feature TEXT NOT NULL, term TEXT NOT NULL, dealer_id TEXT,
              issued_at INTEGER NOT NULL, not_before INTEGER NOT NULL, expires_at INTEGER, token TEXT NOT NULL,
              revoked_at INTEGER, revoke_reason TEXT);
            CREATE INDEX entitlement_vin ON entitlement (vin);
            CREATE TABLE event (
              event_id TEXT PRIMARY KEY, occurred_at INTEGER NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('activation', 'refund')),
              refers_to TEXT, vin TEXT, feature TEXT, term TEXT, channel TEXT, dealer_id TEXT, market TEXT, currency TEXT,
              gross_minor INTEGER, vat_bps INTEGER, entitlement_id TEXT);
            CREATE INDEX event_time ON event (occurred_at);
            CREATE TABLE api_key (
              id TEXT PRIMARY KEY, secret_sha256 TEXT NOT NULL UNIQUE, role TEXT NOT NULL, dealer_id TEXT,
              label TEXT NOT NULL, created_at INTEGER NOT NULL, revoked_at INTEGER);
            CREATE TABLE idempotency (
              principal TEXT NOT NULL, key TEXT NOT NULL, request_sha256 TEXT NOT NULL, status INTEGER NOT NULL,
              body BLOB NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (principal, key));
            CREATE TABLE manifest_version (vin TEXT PRIMARY KEY, version INTEGER NOT NULL, content_sha256 TEXT NOT NULL, issued_at INTEGER NOT NULL);
            CREATE TABLE audit (
              seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, subject TEXT NOT NULL,
              details TEXT NOT NULL, prev_sha256 TEXT NOT NULL, sha256 TEXT NOT NULL);
            """)
        }
        migrator.registerMigration("v2-web-sessions") { db in
            // Dealer web sessions: only the SHA-256 of the cookie value is stored; the CSRF token
            // belongs to the session. Revoking the API key ends its sessions (join on api_key).
            try db.execute(sql: """
            CREATE TABLE web_session (
              id_sha256 TEXT PRIMARY KEY, api_key_id TEXT NOT NULL REFERENCES api_key (id), csrf TEXT NOT NULL,
              created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);
            CREATE INDEX web_session_expiry ON web_session (expires_at);
            """)
        }
        migrator.registerMigration("v3-catalog-tables") { db in
            // The catalog moves from one JSON document into tables; a stored document is carried over.
            try db.execute(sql: FoDDatabase.catalogSchema)
            if let document = try String.fetchOne(db, sql: "SELECT document FROM catalog WHERE id = 1") {
                let catalog: Catalog
                do { catalog = try Catalog(json: document) } catch { throw StoreError(.invalid, "stored catalog document: \(error)") }
                try SQLiteStore.storeCatalog(catalog, SQLiteConnection(db))
            }
            try db.execute(sql: "DROP TABLE catalog")
        }
        migrator.registerMigration("v4-event-dealer-index") { db in
            // One dealer's month (the dealer page, GET /v1/activations) reads its events by dealer.
            try db.execute(sql: "CREATE INDEX event_dealer ON event (dealer_id, occurred_at); CREATE INDEX event_refers_to ON event (refers_to)")
        }
        migrator.registerMigration("v5-health") { db in
            // One row that the readiness check writes: proof that a write reaches the disk.
            try db.execute(sql: "CREATE TABLE health (id INTEGER PRIMARY KEY CHECK (id = 1), checked_at INTEGER NOT NULL)")
        }
        migrator.registerMigration("v6-shared-secret") { db in
            // Secrets every instance on the database shares (the dealer sign-in form's CSRF key).
            try db.execute(sql: "CREATE TABLE shared_secret (name TEXT PRIMARY KEY, secret TEXT NOT NULL)")
        }
        migrator.registerMigration("v7-revoked-index") { db in
            // The revocation cache asks for new revocations twice a second.
            try db.execute(sql: "CREATE INDEX entitlement_revoked ON entitlement (revoked_at) WHERE revoked_at IS NOT NULL")
        }
        migrator.registerMigration("v8-sales") { db in
            // The servicing dealer with effective dates (online purchases are credited to the dealer
            // of the moment), and the consent stored with every sale (withdrawal).
            try db.execute(sql: """
            CREATE TABLE vehicle_dealer (
              vin TEXT NOT NULL, valid_from INTEGER NOT NULL, dealer_id TEXT NOT NULL, recorded_at INTEGER NOT NULL,
              PRIMARY KEY (vin, valid_from));
            CREATE TABLE consent (
              entitlement_id TEXT PRIMARY KEY, terms_version TEXT, immediate_start INTEGER NOT NULL, acknowledged_at INTEGER,
              recorded_at INTEGER NOT NULL);
            """)
        }
        migrator.registerMigration("v9-renewals") { db in
            // A subscription's periods: each renewal links the period it continues to the next
            // (once: the primary key), and a cancellation stops the chain at its newest period.
            try db.execute(sql: """
            CREATE TABLE renewal (previous_id TEXT PRIMARY KEY, next_id TEXT NOT NULL UNIQUE, renewed_at INTEGER NOT NULL);
            CREATE TABLE cancellation (entitlement_id TEXT PRIMARY KEY, cancelled_at INTEGER NOT NULL);
            CREATE INDEX entitlement_expiry ON entitlement (expires_at) WHERE revoked_at IS NULL;
            """)
        }
        migrator.registerMigration("v10-reinstatement") { db in
            // A revocation undone: the entitlement's row is live again, the revocation stays here.
            try db.execute(sql: """
            CREATE TABLE reinstatement (
              entitlement_id TEXT NOT NULL, reinstated_at INTEGER NOT NULL, revoked_at INTEGER, revoke_reason TEXT, reason TEXT NOT NULL);
            CREATE INDEX reinstatement_time ON reinstatement (reinstated_at);
            """)
        }
        migrator.registerMigration("v11-transfer") { db in
            // Features that do not stay with the vehicle when it changes owner, and the changes of owner.
            try db.execute(sql: """
            ALTER TABLE catalog_feature ADD COLUMN transferable INTEGER NOT NULL DEFAULT 1;
            CREATE TABLE ownership_transfer (vin TEXT NOT NULL, effective_at INTEGER NOT NULL, recorded_at INTEGER NOT NULL, PRIMARY KEY (vin, effective_at));
            """)
        }
        migrator.registerMigration("v12-periods") { db in
            // Closed periods and what they froze; credit notes; objections and adjustments; the
            // dealer's party data. `event.recorded` numbers events in the order they were
            // committed (one writer at a time), so a close knows which events it has seen.
            try db.execute(sql: periodSchema)
            try db.execute(sql: """
            UPDATE event SET recorded = rowid;
            CREATE TRIGGER event_recorded AFTER INSERT ON event WHEN NEW.recorded IS NULL BEGIN
              UPDATE event SET recorded = (SELECT COALESCE(MAX(recorded), 0) + 1 FROM event) WHERE rowid = NEW.rowid;
            END;
            """)
        }
        migrator.registerMigration("v13-outbox-webhooks") { db in
            // The outbox (one row per event, written with its change) and the webhook endpoints
            // with their delivery log.
            try db.execute(sql: outboxSchema)
        }
        migrator.registerMigration("v14-trust-roots") { db in
            // The root versions taken, one row each (their keys.rotated events).
            try db.execute(sql: trustRootSchema)
        }
        migrator.registerMigration("v15-statement-keys") { db in
            // The public keys that signed closed periods' statements, published for as long as the
            // statements are kept (a restart with another key must not orphan them).
            try db.execute(sql: statementKeySchema)
        }
        return migrator
    }
}

extension FoDDatabase {
    /// The tables of closing (`v12-periods`), in the dialect both stores share.
    public static let periodSchema = """
    ALTER TABLE dealer ADD COLUMN party TEXT;
    ALTER TABLE event ADD COLUMN recorded INTEGER;
    CREATE UNIQUE INDEX event_recorded ON event (recorded);
    CREATE INDEX audit_subject ON audit (subject);
    CREATE TABLE period_close (
      period TEXT PRIMARY KEY, closed_at INTEGER NOT NULL, actor TEXT NOT NULL, rules_version TEXT NOT NULL,
      events_sha256 TEXT NOT NULL, event_mark INTEGER NOT NULL, audit_seq INTEGER NOT NULL, audit_sha256 TEXT NOT NULL,
      statement TEXT NOT NULL, signature TEXT NOT NULL);
    CREATE TABLE closed_line (
      period TEXT NOT NULL, n INTEGER NOT NULL, dealer_id TEXT NOT NULL, currency TEXT NOT NULL, kind TEXT NOT NULL,
      event_id TEXT NOT NULL, refers_to TEXT NOT NULL, occurred_at INTEGER NOT NULL, vin TEXT NOT NULL, feature TEXT NOT NULL,
      term TEXT NOT NULL, channel TEXT NOT NULL, net_minor INTEGER NOT NULL, rule_id TEXT NOT NULL, rate_bps INTEGER NOT NULL,
      share_minor INTEGER NOT NULL, reason TEXT NOT NULL, PRIMARY KEY (period, n));
    CREATE INDEX closed_line_dealer ON closed_line (dealer_id, period, n);
    CREATE TABLE credit_note (
      number TEXT PRIMARY KEY, period TEXT NOT NULL, dealer_id TEXT NOT NULL, currency TEXT NOT NULL, year INTEGER NOT NULL,
      sequence INTEGER NOT NULL, kind TEXT NOT NULL, total_minor INTEGER NOT NULL, document TEXT NOT NULL,
      UNIQUE (period, dealer_id, currency), UNIQUE (year, sequence));
    CREATE TABLE objection (
      id TEXT PRIMARY KEY, credit_note TEXT NOT NULL REFERENCES credit_note (number), dealer_id TEXT NOT NULL, event_id TEXT,
      reason TEXT NOT NULL, status TEXT NOT NULL CHECK (status IN ('open', 'adjusted', 'rejected')), raised_at INTEGER NOT NULL,
      raised_by TEXT NOT NULL, resolution TEXT, resolved_at INTEGER, resolved_by TEXT);
    CREATE TABLE adjustment (
      id TEXT PRIMARY KEY, dealer_id TEXT NOT NULL, currency TEXT NOT NULL, amount_minor INTEGER NOT NULL, reason TEXT NOT NULL,
      objection_id TEXT REFERENCES objection (id), created_at INTEGER NOT NULL, settled_in TEXT);
    """
}

extension FoDDatabase {

    /// The keys that signed statements (`v15-statement-keys`), in the dialect both stores share:
    /// the key id and its public JWK, never a private key.
    public static let statementKeySchema = "CREATE TABLE statement_key (kid TEXT PRIMARY KEY, jwk TEXT NOT NULL, first_used_at INTEGER NOT NULL)"

    /// The root versions taken (`v14-trust-roots`), in the dialect both stores share.
    public static let trustRootSchema = "CREATE TABLE trust_root (version INTEGER PRIMARY KEY, keys TEXT NOT NULL, taken_at INTEGER NOT NULL)"

    /// The tables of the outbox and the webhooks (`v13-outbox-webhooks`), in the dialect both stores share.
    public static let outboxSchema = """
    CREATE TABLE outbox (
      seq INTEGER PRIMARY KEY, type TEXT NOT NULL, occurred_at INTEGER NOT NULL, subject TEXT NOT NULL, dealer_id TEXT, data TEXT NOT NULL);
    CREATE INDEX outbox_dealer ON outbox (dealer_id, seq);
    CREATE TABLE webhook_endpoint (
      id TEXT PRIMARY KEY, url TEXT NOT NULL, types TEXT NOT NULL, secret TEXT NOT NULL, created_at INTEGER NOT NULL, deleted_at INTEGER,
      position INTEGER NOT NULL, next_attempt_ms INTEGER NOT NULL, lease_owner TEXT, lease_until_ms INTEGER NOT NULL);
    CREATE TABLE webhook_delivery (
      endpoint_id TEXT NOT NULL REFERENCES webhook_endpoint (id), seq INTEGER NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL,
      first_attempt_at INTEGER NOT NULL, last_attempt_at INTEGER NOT NULL, last_status INTEGER, last_error TEXT, PRIMARY KEY (endpoint_id, seq));
    """
}

extension FoDDatabase {
    /// The catalog's tables (`v3-catalog-tables`).
    static let catalogSchema = """
        CREATE TABLE catalog_version (id INTEGER PRIMARY KEY CHECK (id = 1), version TEXT NOT NULL);
        CREATE TABLE catalog_feature (
          code TEXT PRIMARY KEY, position INTEGER NOT NULL, name TEXT NOT NULL, min_model_year INTEGER);
        CREATE TABLE catalog_feature_model (
          feature TEXT NOT NULL REFERENCES catalog_feature (code) ON DELETE CASCADE, model TEXT NOT NULL, PRIMARY KEY (feature, model));
        CREATE TABLE catalog_equipment_rule (
          feature TEXT NOT NULL REFERENCES catalog_feature (code) ON DELETE CASCADE,
          kind TEXT NOT NULL CHECK (kind IN ('requires', 'excludes')), equipment TEXT NOT NULL, position INTEGER NOT NULL,
          PRIMARY KEY (feature, kind, equipment));
        CREATE TABLE catalog_price (
          feature TEXT NOT NULL REFERENCES catalog_feature (code) ON DELETE CASCADE, market TEXT NOT NULL, term TEXT NOT NULL,
          currency TEXT NOT NULL, gross_minor INTEGER NOT NULL CHECK (gross_minor >= 0),
          vat_bps INTEGER NOT NULL CHECK (vat_bps BETWEEN 0 AND 10000), position INTEGER NOT NULL, PRIMARY KEY (feature, market, term));
        CREATE TABLE equipment (code TEXT PRIMARY KEY, name TEXT NOT NULL);
        """
}
