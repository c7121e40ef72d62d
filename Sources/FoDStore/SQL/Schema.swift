/// fod's schema: one list of migrations for both databases, each written once with the few
/// dialect hooks it needs (``SQLDialect/integer``, ``SQLDialect/blob``, ``SQLDialect/boolean``,
/// the numbering of events). Shipped migrations are never edited; changes are new migrations,
/// appended. The applied ones are listed in `fod_migration`.
///
/// The list starts with the schema as the release of December 2026 left it (its own two
/// histories, SQLite's `v1`…`v15` and PostgreSQL's `pg-v1`…`pg-v9`, stand for ``baseline``). A
/// database of an earlier release is refused with what to do: open it once with that release.
public enum Schema {
    /// One step of the schema.
    struct Migration: Sendable {
        let id: String
        let statements: @Sendable (SQLDialect) -> [String]
    }

    /// The first migration: every table as of December 2026.
    static let baseline = "2026-12-baseline"

    /// Every migration, in order.
    static let migrations: [Migration] = [
        Migration(id: baseline, statements: baselineTables),
        // The re-issue at start finds a retired key's tokens by their key id (not by reading every live token).
        Migration(id: "2026-12-entitlement-kid") { d in [
            "ALTER TABLE entitlement ADD COLUMN kid TEXT",
            "CREATE INDEX entitlement_kid ON entitlement (kid) WHERE revoked_at IS NULL",
        ] },
        // The network (docs/network.md): a `dealer` row is a site now, run by a partner (the legal
        // entity, with effective-dated versions); salespeople at sites. Every dealer of before
        // becomes a partner of the same id with that one site, its party data as the partner's
        // first version (in force since the epoch), so stored sales, keys, statements and credit
        // notes keep meaning what they meant.
        Migration(id: "2026-12-network") { d in
            let int = d.integer
            let document = d == .sqlite
                ? "json_object('name', name, 'market', market, 'party', json(party))"
                : "json_build_object('name', name, 'market', market, 'party', party::json)::text"
            return [
                "CREATE TABLE partner (id TEXT PRIMARY KEY, joined_at \(int) NOT NULL, left_at \(int), created_at \(int) NOT NULL)",
                """
                CREATE TABLE partner_version (partner_id TEXT NOT NULL REFERENCES partner (id), valid_from \(int) NOT NULL, document TEXT NOT NULL,
                  recorded_at \(int) NOT NULL, actor TEXT NOT NULL, PRIMARY KEY (partner_id, valid_from))
                """,
                "ALTER TABLE dealer ADD COLUMN partner_id TEXT",
                "ALTER TABLE dealer ADD COLUMN address TEXT",
                "ALTER TABLE dealer ADD COLUMN opened_at \(int)",
                "ALTER TABLE dealer ADD COLUMN closed_at \(int)",
                "ALTER TABLE dealer ADD COLUMN successor TEXT",
                "CREATE INDEX dealer_partner ON dealer (partner_id)",
                """
                CREATE TABLE salesperson (id TEXT NOT NULL, site_id TEXT NOT NULL, active_from \(int) NOT NULL, active_to \(int),
                  recorded_at \(int) NOT NULL, PRIMARY KEY (id, active_from))
                """,
                "CREATE INDEX salesperson_site ON salesperson (site_id)",
                "ALTER TABLE api_key ADD COLUMN salesperson_id TEXT",
                "ALTER TABLE event ADD COLUMN partner_id TEXT",
                "ALTER TABLE event ADD COLUMN salesperson_id TEXT",
                "CREATE INDEX vehicle_dealer_site ON vehicle_dealer (dealer_id, valid_from)",
                "CREATE INDEX vehicle_site ON vehicle (dealer_id)",
                // The partner paid for a closed line (its site's partner, or that one's main partner): the book extract is the partner's.
                "ALTER TABLE closed_line ADD COLUMN partner_id TEXT",
                "CREATE INDEX closed_line_partner ON closed_line (partner_id, period, n)",
                "UPDATE dealer SET partner_id = id, opened_at = 0",
                "INSERT INTO partner (id, joined_at, created_at) SELECT id, 0, 0 FROM dealer",
                "INSERT INTO partner_version (partner_id, valid_from, document, recorded_at, actor) SELECT id, 0, \(document), 0, 'migration' FROM dealer",
            ]
        },
        // The catalog over time (docs/catalog.md): versions by effective date (the catalog of before
        // is read as the first version, in force since the epoch, until one is recorded), campaigns,
        // retirements; a sale records the version and campaign it was priced by.
        Migration(id: "2026-12-catalog-history") { d in
            let int = d.integer
            return [
                """
                CREATE TABLE catalog_history (label TEXT PRIMARY KEY, effective_at \(int) NOT NULL UNIQUE, document TEXT NOT NULL, recorded_at \(int) NOT NULL,
                  actor TEXT NOT NULL)
                """,
                """
                CREATE TABLE campaign (id TEXT PRIMARY KEY, feature TEXT NOT NULL, market TEXT NOT NULL, term TEXT NOT NULL, gross_minor \(int) NOT NULL,
                  starts_at \(int) NOT NULL, ends_at \(int) NOT NULL, recorded_at \(int) NOT NULL, actor TEXT NOT NULL)
                """,
                "CREATE TABLE feature_retirement (feature TEXT PRIMARY KEY, effective_at \(int) NOT NULL, recorded_at \(int) NOT NULL, actor TEXT NOT NULL)",
                "ALTER TABLE event ADD COLUMN catalog_version TEXT",
                "ALTER TABLE event ADD COLUMN campaign_id TEXT",
            ]
        },
        // Commission plans with versions (docs/revenue-share.md, "Plans"); a closed line names the
        // plan and version that priced it.
        Migration(id: "2026-12-plans") { d in
            let int = d.integer
            return [
                """
                CREATE TABLE plan_version (plan_id TEXT NOT NULL, label TEXT NOT NULL, effective_from \(int) NOT NULL, model TEXT NOT NULL,
                  document TEXT NOT NULL, recorded_at \(int) NOT NULL, actor TEXT NOT NULL, PRIMARY KEY (plan_id, effective_from), UNIQUE (plan_id, label))
                """,
                "ALTER TABLE closed_line ADD COLUMN plan_id TEXT",
                "ALTER TABLE closed_line ADD COLUMN plan_version TEXT",
            ]
        },
        // Quotes (docs/journeys.md): a basket for one vehicle, prices locked until it expires,
        // opened by id or short code at any touchpoint; a sale records why it is credited to its
        // site and the quote whose acceptance booked it, and a closed line keeps that reason.
        Migration(id: "2026-12-quotes") { d in
            let int = d.integer
            return [
                """
                CREATE TABLE quote (id TEXT PRIMARY KEY, code TEXT NOT NULL UNIQUE, vin TEXT NOT NULL, market TEXT NOT NULL, channel TEXT NOT NULL,
                  dealer_id TEXT, salesperson_id TEXT, preferred_dealer TEXT, catalog_version TEXT NOT NULL, created_at \(int) NOT NULL,
                  expires_at \(int) NOT NULL, created_by TEXT NOT NULL,
                  status TEXT NOT NULL CHECK (status IN ('open', 'accepted', 'expired', 'cancelled')), closed_at \(int), closed_by TEXT,
                  credited_dealer TEXT, attribution TEXT)
                """,
                """
                CREATE TABLE quote_item (quote_id TEXT NOT NULL REFERENCES quote (id), n \(int) NOT NULL, feature TEXT NOT NULL, term TEXT NOT NULL,
                  extend \(d.boolean) NOT NULL, currency TEXT NOT NULL, gross_minor \(int) NOT NULL, vat_bps \(int) NOT NULL, campaign_id TEXT,
                  PRIMARY KEY (quote_id, n))
                """,
                "CREATE INDEX quote_vin ON quote (vin, created_at)",
                "CREATE INDEX quote_open_expiry ON quote (expires_at) WHERE status = 'open'",
                "ALTER TABLE event ADD COLUMN attribution TEXT",
                "ALTER TABLE event ADD COLUMN quote_id TEXT",
                "CREATE INDEX event_quote ON event (quote_id) WHERE quote_id IS NOT NULL",
                "ALTER TABLE closed_line ADD COLUMN attribution TEXT",
            ]
        },
        // What each car last reported it has (docs/vehicle-sdk.md, "The car reports back"), beside
        // what the service had issued it then; `mismatch` keys the last mismatch raised as an event.
        Migration(id: "2026-12-vehicle-state") { d in
            let int = d.integer
            return [
                """
                CREATE TABLE vehicle_state (vin TEXT PRIMARY KEY REFERENCES vehicle (vin), reported_at \(int) NOT NULL, reported_by TEXT NOT NULL,
                  manifest_version \(int), root_version \(int), current_manifest_version \(int), enabled TEXT NOT NULL, missing TEXT NOT NULL,
                  unexpected TEXT NOT NULL, mismatch TEXT)
                """,
            ]
        },
        // People signed in to the back office (docs/back-office.md): the cookie's SHA-256, who,
        // their roles, the form token, and when the session was last used and ends at the latest.
        Migration(id: "2026-12-staff-sessions") { d in
            let int = d.integer
            return [
                """
                CREATE TABLE staff_session (id_sha256 TEXT PRIMARY KEY, subject TEXT NOT NULL, name TEXT NOT NULL, roles TEXT NOT NULL,
                  csrf TEXT NOT NULL, created_at \(int) NOT NULL, last_seen_at \(int) NOT NULL, expires_at \(int) NOT NULL)
                """,
                "CREATE INDEX staff_session_expiry ON staff_session (expires_at)",
            ]
        },
        // Four eyes (docs/back-office.md): a change proposed by one person, decided by another.
        Migration(id: "2026-12-proposals") { d in
            let int = d.integer
            return [
                """
                CREATE TABLE proposal (id TEXT PRIMARY KEY, kind TEXT NOT NULL CHECK (kind IN ('bulk_revoke', 'bulk_transfer')), vins TEXT NOT NULL, reason TEXT NOT NULL,
                  comment TEXT NOT NULL, required_role TEXT NOT NULL, proposed_by TEXT NOT NULL, proposed_by_name TEXT NOT NULL, proposed_at \(int) NOT NULL,
                  expires_at \(int) NOT NULL, status TEXT NOT NULL CHECK (status IN ('open', 'approved', 'rejected', 'expired')), decided_by TEXT,
                  decided_by_name TEXT, decided_at \(int), result TEXT)
                """,
                "CREATE INDEX proposal_recent ON proposal (proposed_at)",
            ]
        },
        // Four eyes for money too: a commission-plan version and a large adjustment are proposed
        // like a bulk action. `subject` names the plan or the objection, `payload` holds the
        // proposed change (JSON). The table is made again (a CHECK cannot be altered in SQLite):
        // the old one renamed, the new one filled from it and the old one dropped.
        Migration(id: "2026-12-proposal-kinds") { d in
            let int = d.integer
            let columns = "id, kind, vins, reason, comment, required_role, proposed_by, proposed_by_name, proposed_at, expires_at, status, decided_by, decided_by_name, decided_at, result"
            return [
                "ALTER TABLE proposal RENAME TO proposal_before_kinds",
                """
                CREATE TABLE proposal (id TEXT PRIMARY KEY, kind TEXT NOT NULL CHECK (kind IN ('bulk_revoke', 'bulk_transfer', 'plan_version', 'adjustment')),
                  vins TEXT NOT NULL, reason TEXT NOT NULL, comment TEXT NOT NULL, required_role TEXT NOT NULL, proposed_by TEXT NOT NULL,
                  proposed_by_name TEXT NOT NULL, proposed_at \(int) NOT NULL, expires_at \(int) NOT NULL,
                  status TEXT NOT NULL CHECK (status IN ('open', 'approved', 'rejected', 'expired')), decided_by TEXT, decided_by_name TEXT,
                  decided_at \(int), result TEXT, subject TEXT, payload TEXT)
                """,
                "INSERT INTO proposal (\(columns)) SELECT \(columns) FROM proposal_before_kinds",
                "DROP TABLE proposal_before_kinds",
                "CREATE INDEX proposal_recent ON proposal (proposed_at)",
            ]
        },
    ]

    /// fod's tables, parents before children (the order a copy loads them in).
    /// A table made again by a later migration keeps its first place.
    public static let tables: [String] = migrations.flatMap { $0.statements(.sqlite) }.reduce(into: []) { tables, statement in
        guard statement.hasPrefix("CREATE TABLE "),
              let name = statement.dropFirst("CREATE TABLE ".count).split(whereSeparator: { $0 == " " || $0 == "(" }).first.map(String.init),
              !tables.contains(name) else { return }
        tables.append(name)
    }

    /// The last migration of each release's own history, which ``baseline`` stands for.
    static func legacyHead(_ dialect: SQLDialect) -> (table: String, column: String, id: String) {
        dialect == .sqlite ? ("grdb_migrations", "identifier", "v15-statement-keys") : ("fod_migration", "id", "pg-v9-statement-keys")
    }

    /// Brings the database to the last migration, inside the caller's transaction (which holds
    /// the migration lock).
    /// - Returns: whether the database was new (this call created fod's tables).
    /// - Throws: ``StoreError`` `store_database` for a database of a release before December 2026.
    public static func migrate(_ db: any SQLConnection) throws -> Bool {
        try db.execute(sql: "CREATE TABLE IF NOT EXISTS fod_migration (id TEXT PRIMARY KEY, applied_at \(db.dialect.integer) NOT NULL)")
        var applied = Set(try String.fetchAll(db, sql: "SELECT id FROM fod_migration"))
        var isNew = false
        if !applied.contains(baseline) {
            if try db.columns(in: "audit").isEmpty {
                isNew = true
            } else {
                let legacy = legacyHead(db.dialect)
                guard try !db.columns(in: legacy.table).isEmpty,
                      try Int.fetchOne(db, sql: "SELECT 1 FROM \(legacy.table) WHERE \(legacy.column) = ?", arguments: [legacy.id]) != nil else {
                    throw StoreError(.database, """
                        the database was written by a release before December 2026: open it once with the release of December 2026 \
                        (which upgrades it), then with this one
                        """)
                }
                try db.execute(sql: "INSERT INTO fod_migration (id, applied_at) VALUES (?, \(db.dialect.now))", arguments: [baseline])
                applied.insert(baseline)
            }
        }
        for migration in migrations where !applied.contains(migration.id) {
            for statement in migration.statements(db.dialect) { try db.execute(sql: statement) }
            try db.execute(sql: "INSERT INTO fod_migration (id, applied_at) VALUES (?, \(db.dialect.now))", arguments: [migration.id])
        }
        return isNew
    }

    /// The tables of the baseline, in both dialects; the columns in the order the histories left them.
    @Sendable static func baselineTables(_ d: SQLDialect) -> [String] {
        let int = d.integer
        return [
            "CREATE TABLE dealer (id TEXT PRIMARY KEY, name TEXT NOT NULL, market TEXT NOT NULL, party TEXT)",
            """
            CREATE TABLE vehicle (vin TEXT PRIMARY KEY, model TEXT NOT NULL, model_year \(int) NOT NULL, market TEXT NOT NULL,
              equipment TEXT NOT NULL, dealer_id TEXT, created_at \(int) NOT NULL)
            """,
            """
            CREATE TABLE entitlement (id TEXT PRIMARY KEY, issuer TEXT NOT NULL, vin TEXT NOT NULL, feature TEXT NOT NULL, term TEXT NOT NULL,
              dealer_id TEXT, issued_at \(int) NOT NULL, not_before \(int) NOT NULL, expires_at \(int), token TEXT NOT NULL,
              revoked_at \(int), revoke_reason TEXT)
            """,
            "CREATE INDEX entitlement_vin ON entitlement (vin)",
            "CREATE INDEX entitlement_revoked ON entitlement (revoked_at) WHERE revoked_at IS NOT NULL",
            "CREATE INDEX entitlement_expiry ON entitlement (expires_at) WHERE revoked_at IS NULL",
            // `recorded` numbers events in the order they were committed (one writer at a time).
            """
            CREATE TABLE event (event_id TEXT PRIMARY KEY, occurred_at \(int) NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('activation', 'refund')),
              refers_to TEXT, vin TEXT, feature TEXT, term TEXT, channel TEXT, dealer_id TEXT, market TEXT, currency TEXT,
              gross_minor \(int), vat_bps \(int), entitlement_id TEXT, recorded \(d == .sqlite ? "INTEGER" : "BIGSERIAL"))
            """,
            "CREATE INDEX event_time ON event (occurred_at)",
            "CREATE INDEX event_dealer ON event (dealer_id, occurred_at)",
            "CREATE INDEX event_refers_to ON event (refers_to)",
            "CREATE UNIQUE INDEX event_recorded ON event (recorded)",
            """
            CREATE TABLE api_key (id TEXT PRIMARY KEY, secret_sha256 TEXT NOT NULL UNIQUE, role TEXT NOT NULL, dealer_id TEXT,
              label TEXT NOT NULL, created_at \(int) NOT NULL, revoked_at \(int))
            """,
            """
            CREATE TABLE idempotency (principal TEXT NOT NULL, key TEXT NOT NULL, request_sha256 TEXT NOT NULL, status \(int) NOT NULL,
              body \(d.blob) NOT NULL, created_at \(int) NOT NULL, PRIMARY KEY (principal, key))
            """,
            "CREATE TABLE manifest_version (vin TEXT PRIMARY KEY, version \(int) NOT NULL, content_sha256 TEXT NOT NULL, issued_at \(int) NOT NULL)",
            """
            CREATE TABLE audit (seq \(int) PRIMARY KEY, at \(int) NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, subject TEXT NOT NULL,
              details TEXT NOT NULL, prev_sha256 TEXT NOT NULL, sha256 TEXT NOT NULL)
            """,
            "CREATE INDEX audit_subject ON audit (subject)",
            """
            CREATE TABLE web_session (id_sha256 TEXT PRIMARY KEY, api_key_id TEXT NOT NULL REFERENCES api_key (id), csrf TEXT NOT NULL,
              created_at \(int) NOT NULL, expires_at \(int) NOT NULL)
            """,
            "CREATE INDEX web_session_expiry ON web_session (expires_at)",
            "CREATE TABLE catalog_version (id \(int) PRIMARY KEY CHECK (id = 1), version TEXT NOT NULL)",
            """
            CREATE TABLE catalog_feature (code TEXT PRIMARY KEY, position \(int) NOT NULL, name TEXT NOT NULL, min_model_year \(int),
              transferable \(d.boolean) NOT NULL DEFAULT TRUE)
            """,
            """
            CREATE TABLE catalog_feature_model (feature TEXT NOT NULL REFERENCES catalog_feature (code) ON DELETE CASCADE, model TEXT NOT NULL,
              PRIMARY KEY (feature, model))
            """,
            """
            CREATE TABLE catalog_equipment_rule (feature TEXT NOT NULL REFERENCES catalog_feature (code) ON DELETE CASCADE,
              kind TEXT NOT NULL CHECK (kind IN ('requires', 'excludes')), equipment TEXT NOT NULL, position \(int) NOT NULL,
              PRIMARY KEY (feature, kind, equipment))
            """,
            """
            CREATE TABLE catalog_price (feature TEXT NOT NULL REFERENCES catalog_feature (code) ON DELETE CASCADE, market TEXT NOT NULL,
              term TEXT NOT NULL, currency TEXT NOT NULL, gross_minor \(int) NOT NULL CHECK (gross_minor >= 0),
              vat_bps \(int) NOT NULL CHECK (vat_bps BETWEEN 0 AND 10000), position \(int) NOT NULL, PRIMARY KEY (feature, market, term))
            """,
            "CREATE TABLE equipment (code TEXT PRIMARY KEY, name TEXT NOT NULL)",
            "CREATE TABLE health (id \(int) PRIMARY KEY CHECK (id = 1), checked_at \(int) NOT NULL)",
            "CREATE TABLE shared_secret (name TEXT PRIMARY KEY, secret TEXT NOT NULL)",
            """
            CREATE TABLE vehicle_dealer (vin TEXT NOT NULL, valid_from \(int) NOT NULL, dealer_id TEXT NOT NULL, recorded_at \(int) NOT NULL,
              PRIMARY KEY (vin, valid_from))
            """,
            """
            CREATE TABLE consent (entitlement_id TEXT PRIMARY KEY, terms_version TEXT, immediate_start \(d.boolean) NOT NULL, acknowledged_at \(int),
              recorded_at \(int) NOT NULL)
            """,
            "CREATE TABLE renewal (previous_id TEXT PRIMARY KEY, next_id TEXT NOT NULL UNIQUE, renewed_at \(int) NOT NULL)",
            "CREATE TABLE cancellation (entitlement_id TEXT PRIMARY KEY, cancelled_at \(int) NOT NULL)",
            """
            CREATE TABLE reinstatement (entitlement_id TEXT NOT NULL, reinstated_at \(int) NOT NULL, revoked_at \(int), revoke_reason TEXT,
              reason TEXT NOT NULL)
            """,
            "CREATE INDEX reinstatement_time ON reinstatement (reinstated_at)",
            """
            CREATE TABLE ownership_transfer (vin TEXT NOT NULL, effective_at \(int) NOT NULL, recorded_at \(int) NOT NULL,
              PRIMARY KEY (vin, effective_at))
            """,
            """
            CREATE TABLE period_close (period TEXT PRIMARY KEY, closed_at \(int) NOT NULL, actor TEXT NOT NULL, rules_version TEXT NOT NULL,
              events_sha256 TEXT NOT NULL, event_mark \(int) NOT NULL, audit_seq \(int) NOT NULL, audit_sha256 TEXT NOT NULL,
              statement TEXT NOT NULL, signature TEXT NOT NULL)
            """,
            """
            CREATE TABLE closed_line (period TEXT NOT NULL, n \(int) NOT NULL, dealer_id TEXT NOT NULL, currency TEXT NOT NULL, kind TEXT NOT NULL,
              event_id TEXT NOT NULL, refers_to TEXT NOT NULL, occurred_at \(int) NOT NULL, vin TEXT NOT NULL, feature TEXT NOT NULL,
              term TEXT NOT NULL, channel TEXT NOT NULL, net_minor \(int) NOT NULL, rule_id TEXT NOT NULL, rate_bps \(int) NOT NULL,
              share_minor \(int) NOT NULL, reason TEXT NOT NULL, PRIMARY KEY (period, n))
            """,
            "CREATE INDEX closed_line_dealer ON closed_line (dealer_id, period, n)",
            """
            CREATE TABLE credit_note (number TEXT PRIMARY KEY, period TEXT NOT NULL, dealer_id TEXT NOT NULL, currency TEXT NOT NULL,
              year \(int) NOT NULL, sequence \(int) NOT NULL, kind TEXT NOT NULL, total_minor \(int) NOT NULL, document TEXT NOT NULL,
              UNIQUE (period, dealer_id, currency), UNIQUE (year, sequence))
            """,
            """
            CREATE TABLE objection (id TEXT PRIMARY KEY, credit_note TEXT NOT NULL REFERENCES credit_note (number), dealer_id TEXT NOT NULL,
              event_id TEXT, reason TEXT NOT NULL, status TEXT NOT NULL CHECK (status IN ('open', 'adjusted', 'rejected')),
              raised_at \(int) NOT NULL, raised_by TEXT NOT NULL, resolution TEXT, resolved_at \(int), resolved_by TEXT)
            """,
            """
            CREATE TABLE adjustment (id TEXT PRIMARY KEY, dealer_id TEXT NOT NULL, currency TEXT NOT NULL, amount_minor \(int) NOT NULL,
              reason TEXT NOT NULL, objection_id TEXT REFERENCES objection (id), created_at \(int) NOT NULL, settled_in TEXT)
            """,
            """
            CREATE TABLE outbox (seq \(int) PRIMARY KEY, type TEXT NOT NULL, occurred_at \(int) NOT NULL, subject TEXT NOT NULL, dealer_id TEXT,
              data TEXT NOT NULL)
            """,
            "CREATE INDEX outbox_dealer ON outbox (dealer_id, seq)",
            """
            CREATE TABLE webhook_endpoint (id TEXT PRIMARY KEY, url TEXT NOT NULL, types TEXT NOT NULL, secret TEXT NOT NULL,
              created_at \(int) NOT NULL, deleted_at \(int), position \(int) NOT NULL, next_attempt_ms \(int) NOT NULL, lease_owner TEXT,
              lease_until_ms \(int) NOT NULL)
            """,
            """
            CREATE TABLE webhook_delivery (endpoint_id TEXT NOT NULL REFERENCES webhook_endpoint (id), seq \(int) NOT NULL, status TEXT NOT NULL,
              attempts \(int) NOT NULL, first_attempt_at \(int) NOT NULL, last_attempt_at \(int) NOT NULL, last_status \(int), last_error TEXT,
              PRIMARY KEY (endpoint_id, seq))
            """,
            "CREATE TABLE trust_root (version \(int) PRIMARY KEY, keys TEXT NOT NULL, taken_at \(int) NOT NULL)",
            "CREATE TABLE statement_key (kid TEXT PRIMARY KEY, jwk TEXT NOT NULL, first_used_at \(int) NOT NULL)",
        ] + (d == .sqlite ? [
            // PostgreSQL draws `recorded` from the column's sequence; SQLite numbers it after the insert.
            """
            CREATE TRIGGER event_recorded AFTER INSERT ON event WHEN NEW.recorded IS NULL BEGIN
              UPDATE event SET recorded = (SELECT COALESCE(MAX(recorded), 0) + 1 FROM event) WHERE rowid = NEW.rowid;
            END
            """,
        ] : [])
    }
}
