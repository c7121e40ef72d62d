import FoDCore
import FoDEntitlements
import FoDRevenue

/// Commission plans with versions (docs/revenue-share.md, "Plans"). A version takes effect now or
/// later, never earlier; the past is priced by what was in force then.
public protocol PlanStore: Sendable {
    /// The plan: its stored versions, or — while none is stored — `base` (the `--rules` file) as
    /// its one version.
    func plan(_ id: String, base: RuleSet) async throws -> Plan
    /// Records a version of the plan. The first one recorded keeps `base` as the version before it
    /// (in force for everything earlier), so the past is never re-priced.
    /// - Throws: ``StoreError`` `effective_at_invalid` (in the past), `dates_overlap` (not after
    ///   every recorded version), `conflict` (the label is taken).
    func addPlanVersion(_ id: String, _ version: PlanVersion, base: RuleSet, actor: String, at now: Int64) async throws -> Plan
    /// Every plan: the network's (`base` while none is stored) and partners' own, with the sites
    /// each partner plan prices (the partner's sites).
    func planSet(base: RuleSet) async throws -> PlanSet
}

/// Plan ids.
public enum PlanID {
    /// The plan that prices the network's events.
    public static let network = "network"
}

extension SQLStore {
    public func plan(_ id: String, base: RuleSet) async throws -> Plan {
        try await read("plan read") { db in try Self.plan(db, id, base: base) }
    }

    public func addPlanVersion(_ id: String, _ version: PlanVersion, base: RuleSet, actor: String, at now: Int64) async throws -> Plan {
        try await write("plan version") { db in
            guard version.effectiveFrom >= now else {
                throw StoreError(.effectiveAtInvalid, "effective_from is in the past: a plan version takes effect now or later, never earlier")
            }
            let plan = try Self.plan(db, id, base: base)
            if let last = plan.versions.last, version.effectiveFrom <= last.effectiveFrom {
                throw StoreError(.datesOverlap, "version \(last.rules.version) takes effect on \(Instant(unixSeconds: last.effectiveFrom).rfc3339): a new version takes effect after it")
            }
            if plan.versions.contains(where: { $0.rules.version == version.rules.version }) {
                throw StoreError(.conflict, "plan \(id) has a version \(version.rules.version): give the new one its own label")
            }
            // A partner's own plan prices its sites from its first version on (the network's before): nothing to keep.
            if id == PlanID.network, try Int.fetchOne(db, sql: "SELECT count(*) FROM plan_version WHERE plan_id = ?", arguments: [id]) == 0 {
                // The rules in force until now become the plan's first version, in force since the epoch (every event is later).
                try db.execute(sql: """
                    INSERT INTO plan_version (plan_id, label, effective_from, model, document, recorded_at, actor) VALUES (?, ?, 0, 'agency', ?, ?, ?)
                    """, arguments: [id, base.version, base.json, now, actor])
            }
            try db.execute(sql: "INSERT INTO plan_version (plan_id, label, effective_from, model, document, recorded_at, actor) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           arguments: [id, version.rules.version, version.effectiveFrom, version.model.rawValue, version.rules.json, now, actor])
            try db.appendAudit(at: now, actor: actor, action: "plan.version", subject: id,
                               details: "version=\(version.rules.version) model=\(version.model.rawValue) from=\(Instant(unixSeconds: version.effectiveFrom).rfc3339)")
            return try Self.plan(db, id, base: base)
        }
    }

    public func planSet(base: RuleSet) async throws -> PlanSet {
        try await read("plans read") { db in
            let network = try Self.plan(db, PlanID.network, base: base)
            let ids = try String.fetchAll(db, sql: "SELECT DISTINCT plan_id FROM plan_version WHERE plan_id <> ? ORDER BY plan_id", arguments: [PlanID.network])
            let partners = try ids.map { try Self.plan(db, $0, base: base) }
            var sites: [String: String] = [:]
            if !ids.isEmpty {
                for row in try SQLRow.fetchAll(db, sql: "SELECT id, partner_id FROM dealer WHERE partner_id IN (\(SQLText.list(ids.count)))", arguments: SQLArguments(ids)) {
                    sites[row["id"]] = row["partner_id"]
                }
            }
            return PlanSet(network: network, partnerPlans: partners, sites: sites)
        }
    }

    static func plan(_ db: any SQLConnection, _ id: String, base: RuleSet) throws -> Plan {
        let rows = try SQLRow.fetchAll(db, sql: "SELECT label, effective_from, model, document FROM plan_version WHERE plan_id = ? ORDER BY effective_from",
                                       arguments: [id])
        guard !rows.isEmpty else { return try Plan(id: id, versions: [PlanVersion(effectiveFrom: Int64.min, model: .agency, rules: base)]) }
        return try StoreRows.stored {
            try Plan(id: id, versions: try rows.map { row in
                PlanVersion(effectiveFrom: row["effective_from"], model: PlanModel(rawValue: row["model"]) ?? .agency, rules: try RuleSet(json: row["document"] as String))
            })
        }
    }
}
