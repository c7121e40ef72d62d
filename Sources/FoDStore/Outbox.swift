import Synchronization

/// The transactional outbox: every state change's event, written in the transaction of the change
/// from the audit entries it appended (one statement at the transaction's end, so the event holds
/// the resource's new state). An event exists exactly when its change does, on both stores. Its
/// `seq` is the audit entry's: increasing, with gaps where an entry is not an event (API keys,
/// sessions, imports).
public enum Outbox {
    /// What kind of resource an event's subject names.
    enum Subject: Int, CaseIterable { case entitlement, vehicle, manifest, trust, period, objection, partner, site, salesperson, catalog, campaign, retirement, plan, quote, vehicleState }

    /// Audit action → event type, and the subject it concerns. `docs/api.md` lists them.
    static let types: [(action: String, type: String, subject: Subject)] = [
        ("activation.create", "activation.created", .entitlement),
        ("subscription.renew", "subscription.renewed", .entitlement),
        ("activation.refund", "activation.refunded", .entitlement),
        ("activation.withdraw", "activation.withdrawn", .entitlement),
        ("subscription.cancel", "subscription.cancelled", .entitlement),
        ("entitlement.issue", "entitlement.issued", .entitlement),
        ("entitlement.revoke", "entitlement.revoked", .entitlement),
        ("entitlement.reinstate", "entitlement.reinstated", .entitlement),
        ("entitlement.reissue", "entitlement.reissued", .entitlement),
        ("vehicle.register", "vehicle.registered", .vehicle),
        ("vehicle.dealer", "vehicle.dealer_assigned", .vehicle),
        ("vehicle.transfer", "vehicle.transferred", .vehicle),
        ("manifest.version", "manifest.versioned", .manifest),
        ("trust.rotate", "keys.rotated", .trust),
        ("period.close", "period.closed", .period),
        ("objection.raise", "objection.raised", .objection),
        ("objection.adjusted", "objection.adjusted", .objection),
        ("objection.rejected", "objection.rejected", .objection),
        ("partner.create", "partner.created", .partner),
        ("partner.change", "partner.changed", .partner),
        ("partner.end", "partner.ended", .partner),
        ("site.open", "site.opened", .site),
        ("site.close", "site.closed", .site),
        ("salesperson.add", "salesperson.added", .salesperson),
        ("salesperson.end", "salesperson.ended", .salesperson),
        ("catalog.version", "catalog.versioned", .catalog),
        ("campaign.create", "campaign.created", .campaign),
        ("feature.retire", "feature.retired", .retirement),
        ("plan.version", "plan.versioned", .plan),
        ("quote.create", "quote.created", .quote),
        ("quote.accept", "quote.accepted", .quote),
        ("quote.expire", "quote.expired", .quote),
        ("quote.cancel", "quote.cancelled", .quote),
        ("vehicle.state_mismatch", "vehicle.state_mismatch", .vehicleState),
    ]

    /// Every event type, in the order of ``types``.
    public static var eventTypes: [String] { types.map(\.type) }

    /// The kind of subject of an audit action that is an event (`nil`: not an event).
    static func subject(of action: String) -> Subject? { subjects[action] }
    private static let subjects = Dictionary(uniqueKeysWithValues: types.map { ($0.action, $0.subject) })

    /// The outbox statement of a transaction whose audit entries concern `subjects` (made once
    /// per dialect and set of subjects). Only their branches are in it: PostgreSQL plans a
    /// statement anew each time, and the one with every branch took about 1.8 ms to plan — per
    /// group commit, more than its execution.
    static func insert(_ dialect: SQLDialect, for subjects: Set<Subject>) -> String {
        let key = subjects.reduce(dialect == .sqlite ? 0 : 1 << Subject.allCases.count) { $0 | 1 << $1.rawValue }
        if let cached = statements.withLock({ $0[key] }) { return cached }
        let made = insert(dialect, subjects)
        statements.withLock { $0[key] = made }
        return made
    }
    private static let statements = Mutex<[Int: String]>([:])

    /// `INSERT INTO outbox … SELECT … FROM audit WHERE seq > ?` for the dialect and the subjects;
    /// the one parameter is the audit head before the transaction's changes.
    static func insert(_ dialect: SQLDialect, _ subjects: Set<Subject>) -> String {
        let d = OutboxSQL(dialect)
        func actions(_ subject: Subject) -> String {
            types.filter { $0.subject == subject }.map { "'\($0.action)'" }.joined(separator: ", ")
        }
        let entitlement = d.object([
            ("entitlement", d.nested("""
                SELECT \(d.object([("id", "e.id"), ("vin", "e.vin"), ("feature", "e.feature"), ("term", "e.term"), ("dealer_id", "e.dealer_id"),
                                  ("starts_at", d.time("e.not_before")), ("ends_at", d.time("e.expires_at")), ("revoked_at", d.time("e.revoked_at")),
                                  ("revoke_reason", "e.revoke_reason"),
                                  ("cancelled", d.bool("EXISTS (SELECT 1 FROM cancellation c WHERE c.entitlement_id = e.id)"))]))
                FROM entitlement e WHERE e.id = a.subject
                """)),
            ("sale", d.nested("""
                SELECT \(d.object([("channel", "s.channel"), ("market", "s.market"), ("currency", "s.currency"), ("gross_minor", "s.gross_minor"),
                                  ("vat_bps", "s.vat_bps"), ("sold_at", d.time("s.occurred_at"))]))
                FROM event s WHERE s.event_id = 'act-' || a.subject
                """)),
            ("refunded_at", "(SELECT \(d.time("r.occurred_at")) FROM event r WHERE r.event_id = 'ref-' || a.subject)"),
        ])
        // The servicing dealer when the change was made: the assignment in force then, or else the
        // dealer the vehicle was registered with — as GET /v1/vehicles/{vin} answers it. Vehicle
        // events go to that dealer's feed.
        let servicing = """
            COALESCE((SELECT g.dealer_id FROM vehicle_dealer g WHERE g.vin = a.subject AND g.valid_from <= a.at ORDER BY g.valid_from DESC LIMIT 1),
                     (SELECT v.dealer_id FROM vehicle v WHERE v.vin = a.subject))
            """
        let vehicle = d.object([
            ("vehicle", d.nested("""
                SELECT \(d.object([("vin", "v.vin"), ("model", "v.model"), ("model_year", "v.model_year"), ("market", "v.market"), ("dealer_id", "v.dealer_id")]))
                FROM vehicle v WHERE v.vin = a.subject
                """)),
            ("servicing_dealer", servicing),
            ("transferred_at", "(SELECT \(d.time("t.effective_at")) FROM ownership_transfer t WHERE t.vin = a.subject ORDER BY t.effective_at DESC LIMIT 1)"),
        ])
        let manifest = d.object([("vin", "a.subject"), ("version", "(SELECT m.version FROM manifest_version m WHERE m.vin = a.subject)")])
        let trust = d.object([("root_version", d.integer("a.subject")),
                              ("issuing_keys", d.json("(SELECT r.keys FROM trust_root r WHERE r.version = \(d.integer("a.subject")))"))])
        let period = d.object([("period", "a.subject"), ("credit_notes", d.array("n.number", from: "credit_note n WHERE n.period = a.subject", order: "n.number"))])
        let objection = d.nested("""
            SELECT \(d.object([("id", "o.id"), ("credit_note", "o.credit_note"), ("dealer_id", "o.dealer_id"), ("event_id", "o.event_id"),
                              ("status", "o.status"), ("reason", "o.reason"), ("resolution", "o.resolution")]))
            FROM objection o WHERE o.id = a.subject
            """)
        // The partner with the version the change recorded (the latest recorded one).
        let partner = d.nested("""
            SELECT \(d.object([("id", "p.id"), ("joined_at", d.time("p.joined_at")), ("left_at", d.time("p.left_at")),
                              ("valid_from", "(SELECT \(d.time("v.valid_from")) FROM partner_version v WHERE v.partner_id = p.id ORDER BY v.recorded_at DESC, v.valid_from DESC LIMIT 1)"),
                              ("version", d.json("(SELECT v.document FROM partner_version v WHERE v.partner_id = p.id ORDER BY v.recorded_at DESC, v.valid_from DESC LIMIT 1)"))]))
            FROM partner p WHERE p.id = a.subject
            """)
        let site = d.nested("""
            SELECT \(d.object([("id", "s.id"), ("partner_id", "s.partner_id"), ("name", "s.name"), ("market", "s.market"),
                              ("opened_at", d.time("s.opened_at")), ("closed_at", d.time("s.closed_at")), ("successor", "s.successor")]))
            FROM dealer s WHERE s.id = a.subject
            """)
        let salesperson = d.nested("""
            SELECT \(d.object([("id", "p.id"), ("site_id", "p.site_id"), ("active_from", d.time("p.active_from")), ("active_to", d.time("p.active_to"))]))
            FROM salesperson p WHERE p.id = a.subject ORDER BY p.recorded_at DESC, p.active_from DESC LIMIT 1
            """)
        let catalog = d.nested("""
            SELECT \(d.object([("version", "c.label"), ("effective_at", d.time("c.effective_at"))])) FROM catalog_history c WHERE c.label = a.subject
            """)
        let campaign = d.nested("""
            SELECT \(d.object([("id", "c.id"), ("feature", "c.feature"), ("market", "c.market"), ("term", "c.term"), ("gross_minor", "c.gross_minor"),
                              ("from", d.time("c.starts_at")), ("to", d.time("c.ends_at"))]))
            FROM campaign c WHERE c.id = a.subject
            """)
        let retirement = d.nested("""
            SELECT \(d.object([("feature", "r.feature"), ("effective_at", d.time("r.effective_at"))])) FROM feature_retirement r WHERE r.feature = a.subject
            """)
        let plan = d.nested("""
            SELECT \(d.object([("plan", "p.plan_id"), ("version", "p.label"), ("model", "p.model"), ("effective_from", d.time("p.effective_from"))]))
            FROM plan_version p WHERE p.plan_id = a.subject ORDER BY p.recorded_at DESC, p.effective_from DESC LIMIT 1
            """)
        // A quote without its code (the code is what a customer shows to have it opened).
        let quote = d.nested("""
            SELECT \(d.object([("id", "q.id"), ("vin", "q.vin"), ("status", "q.status"), ("channel", "q.channel"), ("dealer_id", "q.dealer_id"),
                              ("salesperson_id", "q.salesperson_id"), ("preferred_dealer", "q.preferred_dealer"), ("catalog_version", "q.catalog_version"),
                              ("created_at", d.time("q.created_at")), ("expires_at", d.time("q.expires_at")), ("closed_at", d.time("q.closed_at")),
                              ("credited_dealer", "q.credited_dealer"), ("attribution", "q.attribution"),
                              ("items", d.objects([("feature", "i.feature"), ("term", "i.term"), ("currency", "i.currency"), ("gross_minor", "i.gross_minor")],
                                                  from: "quote_item i WHERE i.quote_id = q.id", order: "i.n"))]))
            FROM quote q WHERE q.id = a.subject
            """)
        // A car's report that differs from what it was issued (docs/vehicle-sdk.md).
        let vehicleState = d.nested("""
            SELECT \(d.object([("vin", "s.vin"), ("reported_at", d.time("s.reported_at")), ("manifest_version", "s.manifest_version"),
                              ("current_manifest_version", "s.current_manifest_version"), ("root_version", "s.root_version"),
                              ("enabled", d.json("s.enabled")), ("missing", d.json("s.missing")), ("unexpected", d.json("s.unexpected"))]))
            FROM vehicle_state s WHERE s.vin = a.subject
            """)
        let present = types.filter { subjects.contains($0.subject) }
        var dealer: [String] = [], data: [String] = []
        func when(_ subject: Subject, dealer dealerValue: String?, data dataValue: String) {
            guard subjects.contains(subject) else { return }
            let condition = "WHEN a.action IN (\(actions(subject)))"
            if let dealerValue { dealer.append("\(condition) THEN \(dealerValue)") }
            data.append("\(condition) THEN \(dataValue)")
        }
        when(.entitlement, dealer: "(SELECT e.dealer_id FROM entitlement e WHERE e.id = a.subject)", data: entitlement)
        when(.vehicle, dealer: servicing, data: vehicle)
        when(.objection, dealer: "(SELECT o.dealer_id FROM objection o WHERE o.id = a.subject)", data: objection)
        when(.manifest, dealer: nil, data: manifest)
        when(.trust, dealer: nil, data: trust)
        when(.period, dealer: nil, data: period)
        when(.partner, dealer: nil, data: partner)
        when(.site, dealer: "a.subject", data: site)
        when(.catalog, dealer: nil, data: catalog)
        when(.campaign, dealer: nil, data: campaign)
        when(.retirement, dealer: nil, data: retirement)
        when(.plan, dealer: nil, data: plan)
        // A quote's feed: the site credited once accepted, else the customer's preferred site, else the site that made it.
        when(.vehicleState, dealer: servicing, data: vehicleState)
        when(.quote, dealer: "(SELECT COALESCE(q.credited_dealer, q.preferred_dealer, q.dealer_id) FROM quote q WHERE q.id = a.subject)", data: quote)
        when(.salesperson, dealer: "(SELECT p.site_id FROM salesperson p WHERE p.id = a.subject ORDER BY p.recorded_at DESC, p.active_from DESC LIMIT 1)",
             data: salesperson)
        let typeCase = "CASE a.action " + present.map { "WHEN '\($0.action)' THEN '\($0.type)'" }.joined(separator: " ") + " END"
        return """
            INSERT INTO outbox (seq, type, occurred_at, subject, dealer_id, data)
            SELECT a.seq, \(typeCase), a.at, a.subject,
              \(dealer.isEmpty ? "CAST(NULL AS TEXT)" : "CASE " + dealer.joined(separator: "\n       ") + " END"),
              \(d.text("CASE " + data.joined(separator: "\n       ") + " END"))
            FROM audit a WHERE a.seq > ? AND a.action IN (\(present.map { "'\($0.action)'" }.joined(separator: ", ")))
            ORDER BY a.seq
            """
    }
}

/// The JSON functions of a dialect.
private struct OutboxSQL {
    let dialect: SQLDialect
    init(_ dialect: SQLDialect) { self.dialect = dialect }

    func object(_ members: [(String, String)]) -> String {
        let inner = members.map { "'\($0.0)', \($0.1)" }.joined(separator: ", ")
        return dialect == .sqlite ? "json_object(\(inner))" : "json_build_object(\(inner))"
    }

    /// A JSON value from a scalar subquery (SQLite loses the JSON subtype across one).
    func nested(_ select: String) -> String { dialect == .sqlite ? "json((\(select)))" : "(\(select))" }

    func bool(_ condition: String) -> String {
        dialect == .sqlite ? "CASE WHEN \(condition) THEN json('true') ELSE json('false') END" : "(\(condition))"
    }

    /// Unix seconds as RFC 3339 UTC, `NULL` stays `NULL`.
    func time(_ seconds: String) -> String {
        dialect == .sqlite ? "strftime('%Y-%m-%dT%H:%M:%SZ', \(seconds), 'unixepoch')"
            : "to_char(to_timestamp(\(seconds)) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
    }

    func array(_ value: String, from: String, order: String) -> String {
        dialect == .sqlite ? "json((SELECT json_group_array(\(value)) FROM (SELECT \(value) FROM \(from) ORDER BY \(order)) n))"
            : "(SELECT COALESCE(json_agg(\(value) ORDER BY \(order)), '[]'::json) FROM \(from))"
    }

    /// A JSON array of one object per row of `from`, in `order`.
    func objects(_ members: [(String, String)], from: String, order: String) -> String {
        dialect == .sqlite ? "json((SELECT json_group_array(json(x)) FROM (SELECT \(object(members)) AS x FROM \(from) ORDER BY \(order)) n))"
            : "(SELECT COALESCE(json_agg(\(object(members)) ORDER BY \(order)), '[]'::json) FROM \(from))"
    }

    func integer(_ text: String) -> String { dialect == .sqlite ? "CAST(\(text) AS INTEGER)" : "CAST(\(text) AS BIGINT)" }

    /// A JSON value from JSON text.
    func json(_ text: String) -> String { dialect == .sqlite ? "json(\(text))" : "(\(text))::json" }

    func text(_ value: String) -> String { dialect == .sqlite ? value : "(\(value))::text" }
}
