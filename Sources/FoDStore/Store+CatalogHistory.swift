import FoDCore
import FoDEntitlements

/// The catalog over time (docs/catalog.md): versions effective from a date, campaigns and
/// retirements. Nothing in force is rewritten: a version, a campaign or a retirement takes effect
/// now or later, never earlier.
public protocol CatalogStore: Sendable {
    /// Every version, campaign and retirement.
    func catalogHistory() async throws -> CatalogHistory
    /// Records a catalog version in force from `effectiveAt` (now or later, after every recorded version).
    /// - Throws: ``StoreError`` `effective_at_invalid`, `dates_overlap`, `conflict` (the label is taken),
    ///   `feature_dropped` (a feature of the version before is missing: retire it instead).
    func addCatalogVersion(_ catalog: Catalog, effectiveAt: Int64, actor: String, at now: Int64) async throws -> CatalogVersion
    /// Records a campaign.
    /// - Throws: ``StoreError`` `conflict` (the id is taken), `campaign_overlap`, `effective_at_invalid`, `invalid`.
    func addCampaign(_ campaign: Campaign, actor: String, at now: Int64) async throws -> Campaign
    /// Retires a feature from `effectiveAt` (now or later).
    /// - Throws: ``StoreError`` `feature_retired`, `not_found`, `effective_at_invalid`.
    func retireFeature(_ feature: FeatureCode, effectiveAt: Int64, actor: String, at now: Int64) async throws -> Int64
}

extension SQLStore {
    public func catalogHistory() async throws -> CatalogHistory {
        try await read("catalog history") { db in try Self.catalogHistory(db) }
    }

    public func addCatalogVersion(_ catalog: Catalog, effectiveAt: Int64, actor: String, at now: Int64) async throws -> CatalogVersion {
        try await write("catalog version") { db in
            guard effectiveAt >= now else {
                throw StoreError(.effectiveAtInvalid, "effective_at is in the past: a catalog version takes effect now or later, never earlier")
            }
            let history = try Self.catalogHistory(db)
            if let last = history.versions.last, effectiveAt <= last.effectiveAt {
                throw StoreError(.datesOverlap, "version \(last.label) takes effect on \(Instant(unixSeconds: last.effectiveAt).rfc3339): a new version takes effect after it")
            }
            if history.versions.contains(where: { $0.label == catalog.version }) {
                throw StoreError(.conflict, "catalog version \(catalog.version) exists: give the new version its own label")
            }
            if let previous = history.versions.last?.catalog, let dropped = previous.features.first(where: { catalog.feature($0.code) == nil }) {
                throw StoreError(.featureDropped, "\(dropped.code) is in version \(previous.version) and missing here: retire it instead (POST /v1/features/\(dropped.code)/retire)")
            }
            try Self.keepImplicitVersion(history, db, actor: actor, at: now)
            try Self.insertCatalogVersion(catalog, effectiveAt: effectiveAt, actor: actor, at: now, db)
            return CatalogVersion(label: catalog.version, effectiveAt: effectiveAt, catalog: catalog)
        }
    }

    public func addCampaign(_ campaign: Campaign, actor: String, at now: Int64) async throws -> Campaign {
        try await write("campaign") { db in
            guard campaign.from < campaign.to else { throw StoreError(.effectiveAtInvalid, "a campaign's to must be after its from") }
            guard campaign.to > now else { throw StoreError(.effectiveAtInvalid, "the campaign would be over before it is recorded") }
            guard campaign.from >= now else { throw StoreError(.effectiveAtInvalid, "a campaign starts now or later, never earlier") }
            if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM campaign WHERE id = ?)", arguments: [campaign.id]) == true {
                throw StoreError(.conflict, "campaign \(campaign.id) exists")
            }
            let history = try Self.catalogHistory(db)
            guard let feature = history.version(at: campaign.from)?.catalog.feature(campaign.feature) else {
                throw StoreError(.notFound, "\(campaign.feature) is not in the catalog in force at the campaign's start")
            }
            guard let list = feature.price(market: campaign.market, term: campaign.term) else {
                throw StoreError(.invalid, "\(campaign.feature) has no list price for \(campaign.term) in \(campaign.market): a campaign replaces a list price")
            }
            guard campaign.grossMinor <= list.gross.minor else {
                throw StoreError(.invalid, "a campaign price (\(campaign.grossMinor)) above the list price (\(list.gross.minor)) is not a campaign")
            }
            if let other = history.campaigns.first(where: { $0.overlaps(campaign) }) {
                throw StoreError(.campaignOverlap, "campaign \(other.id) prices \(campaign.feature) \(campaign.term) in \(campaign.market) from \(Instant(unixSeconds: other.from).rfc3339) to \(Instant(unixSeconds: other.to).rfc3339): the windows overlap")
            }
            try db.execute(sql: """
                INSERT INTO campaign (id, feature, market, term, gross_minor, starts_at, ends_at, recorded_at, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [campaign.id, campaign.feature.value, campaign.market.code, campaign.term.rawValue, campaign.grossMinor, campaign.from,
                                 campaign.to, now, actor])
            try db.appendAudit(at: now, actor: actor, action: "campaign.create", subject: campaign.id,
                               details: "feature=\(campaign.feature) market=\(campaign.market) term=\(campaign.term) gross=\(campaign.grossMinor) \(list.currency) from=\(Instant(unixSeconds: campaign.from).rfc3339) to=\(Instant(unixSeconds: campaign.to).rfc3339)")
            return campaign
        }
    }

    public func retireFeature(_ feature: FeatureCode, effectiveAt: Int64, actor: String, at now: Int64) async throws -> Int64 {
        try await write("feature retirement") { db in
            guard effectiveAt >= now else { throw StoreError(.effectiveAtInvalid, "a feature is retired from now or later, never earlier") }
            let history = try Self.catalogHistory(db)
            guard history.versions.contains(where: { $0.catalog.feature(feature) != nil }) else {
                throw StoreError(.notFound, "\(feature) is not in the catalog")
            }
            if let retired = history.retirements[feature] {
                throw StoreError(.featureRetired, "\(feature) is retired from \(Instant(unixSeconds: retired).rfc3339) already")
            }
            try db.execute(sql: "INSERT INTO feature_retirement (feature, effective_at, recorded_at, actor) VALUES (?, ?, ?, ?)",
                           arguments: [feature.value, effectiveAt, now, actor])
            try db.appendAudit(at: now, actor: actor, action: "feature.retire", subject: feature.value,
                               details: "from=\(Instant(unixSeconds: effectiveAt).rfc3339)")
            return effectiveAt
        }
    }
}

extension SQLStore {
    static func catalogHistory(_ db: any SQLConnection) throws -> CatalogHistory {
        var versions = try SQLRow.fetchAll(db, sql: "SELECT label, effective_at, document FROM catalog_history ORDER BY effective_at").map { row in
            let catalog = try StoreRows.stored { try Catalog(json: row["document"] as String) }
            return CatalogVersion(label: row["label"], effectiveAt: row["effective_at"], catalog: catalog)
        }
        // A database of before the history: its one catalog, in force since the epoch.
        if versions.isEmpty, let catalog = try loadCatalog(db) {
            versions = [CatalogVersion(label: catalog.version, effectiveAt: 0, catalog: catalog)]
        }
        let campaigns = try SQLRow.fetchAll(db, sql: "SELECT * FROM campaign ORDER BY starts_at, id").map { row in
            try StoreRows.stored {
                Campaign(id: row["id"], feature: try FeatureCode(row["feature"] as String), market: try Market(row["market"] as String),
                         term: try Term(validating: row["term"] as String), grossMinor: row["gross_minor"], from: row["starts_at"], to: row["ends_at"])
            }
        }
        var retirements: [FeatureCode: Int64] = [:]
        for row in try SQLRow.fetchAll(db, sql: "SELECT feature, effective_at FROM feature_retirement") {
            retirements[try StoreRows.stored { try FeatureCode(row["feature"] as String) }] = row["effective_at"]
        }
        return CatalogHistory(versions: versions, campaigns: campaigns, retirements: retirements)
    }

    /// Records the catalog a database of before the history holds as the version it stands for
    /// (since the epoch), before a version is added after it.
    static func keepImplicitVersion(_ history: CatalogHistory, _ db: any SQLConnection, actor: String, at now: Int64) throws {
        guard let first = history.versions.first, history.versions.count == 1, first.effectiveAt == 0,
              try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM catalog_history)") != true else { return }
        try db.execute(sql: "INSERT INTO catalog_history (label, effective_at, document, recorded_at, actor) VALUES (?, 0, ?, ?, ?)",
                       arguments: [first.label, first.catalog.json, now, actor])
    }

    /// Records a version; `event`: with its audit entry (and so its `catalog.versioned` event) —
    /// an import's version is in the import's own entry instead, as the rest of a bulk load.
    static func insertCatalogVersion(_ catalog: Catalog, effectiveAt: Int64, actor: String, at now: Int64, _ db: any SQLConnection, event: Bool = true) throws {
        try db.execute(sql: "INSERT INTO catalog_history (label, effective_at, document, recorded_at, actor) VALUES (?, ?, ?, ?, ?)",
                       arguments: [catalog.version, effectiveAt, catalog.json, now, actor])
        guard event else { return }
        try db.appendAudit(at: now, actor: actor, action: "catalog.version", subject: catalog.version,
                           details: "from=\(Instant(unixSeconds: effectiveAt).rfc3339) features=\(catalog.features.count)")
    }

    /// The import's catalog as a version: the first one in force since the epoch, a later one from
    /// `now` when it differs from the version in force (inside the import's transaction).
    static func importCatalogVersion(_ catalog: Catalog, actor: String, at now: Int64, _ db: any SQLConnection) throws {
        let recorded = try SQLRow.fetchAll(db, sql: "SELECT label, effective_at, document FROM catalog_history ORDER BY effective_at")
        guard let last = recorded.last else {
            try insertCatalogVersion(catalog, effectiveAt: 0, actor: actor, at: now, db, event: false)
            return
        }
        let inForce = recorded.last { ($0["effective_at"] as Int64) <= now } ?? last
        guard (inForce["document"] as String) != catalog.json else { return }
        let lastAt: Int64 = last["effective_at"]
        guard lastAt < now else {
            throw StoreError(.datesOverlap, "a catalog version is scheduled for \(Instant(unixSeconds: lastAt).rfc3339): an import takes effect now, before it")
        }
        guard !recorded.contains(where: { ($0["label"] as String) == catalog.version }) else {
            throw StoreError(.conflict, "catalog version \(catalog.version) exists with other content: give the import's catalog its own version label")
        }
        try insertCatalogVersion(catalog, effectiveAt: now, actor: actor, at: now, db, event: false)
    }
}
