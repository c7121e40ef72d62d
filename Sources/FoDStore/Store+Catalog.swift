import FoDCore
import FoDEntitlements

/// The catalog in tables: features, the models they are offered for, the equipment they require or
/// exclude, prices per market and term with the VAT rate, and equipment names. Order is kept with
/// `position` columns, so offers list features and terms as the catalog file does.
extension SQLStore {
    /// Replaces the stored catalog with `catalog` (inside the caller's transaction).
    static func storeCatalog(_ catalog: Catalog, _ db: any SQLConnection) throws {
        for table in ["catalog_price", "catalog_equipment_rule", "catalog_feature_model", "catalog_feature", "equipment", "catalog_version"] {
            try db.execute(sql: "DELETE FROM \(table)")
        }
        try db.execute(sql: "INSERT INTO catalog_version (id, version) VALUES (1, ?)", arguments: [catalog.version])
        let hasTransferable = try db.columns(in: "catalog_feature").contains("transferable")
        for (position, feature) in catalog.features.enumerated() {
            let code = feature.code.value
            try db.execute(sql: "INSERT INTO catalog_feature (code, position, name, min_model_year) VALUES (?, ?, ?, ?)",
                           arguments: [code, position, feature.name, feature.minModelYear])
            // The column came with migration v11; migration v3 stores documents of before, which
            // knew no "transferable" (every feature stayed with the vehicle: the column's default).
            if hasTransferable, !feature.transferable {
                try db.execute(sql: "UPDATE catalog_feature SET transferable = FALSE WHERE code = ?", arguments: [code])
            }
            for model in feature.models.sorted() {
                try db.execute(sql: "INSERT INTO catalog_feature_model (feature, model) VALUES (?, ?)", arguments: [code, model])
            }
            for (kind, list) in [("requires", feature.requires), ("excludes", feature.excludes)] {
                for (index, equipment) in list.enumerated() {
                    try db.execute(sql: "INSERT INTO catalog_equipment_rule (feature, kind, equipment, position) VALUES (?, ?, ?, ?)",
                                   arguments: [code, kind, equipment, index])
                }
            }
            for (index, price) in feature.prices.enumerated() {
                try db.execute(sql: """
                    INSERT INTO catalog_price (feature, market, term, currency, gross_minor, vat_bps, position) VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [code, price.market.code, price.term.rawValue, price.currency.code, price.gross.minor, price.vat.value, index])
            }
        }
        for (code, name) in catalog.equipmentNames.sorted(by: { $0.key < $1.key }) {
            try db.execute(sql: "INSERT INTO equipment (code, name) VALUES (?, ?)", arguments: [code, name])
        }
    }

    /// The stored catalog, or `nil` when none was loaded.
    static func loadCatalog(_ db: any SQLConnection) throws -> Catalog? {
        guard let version = try String.fetchOne(db, sql: "SELECT version FROM catalog_version WHERE id = 1") else { return nil }
        var rows = CatalogRows(version: version)
        rows.models = try SQLRow.fetchAll(db, sql: "SELECT feature, model FROM catalog_feature_model").map { ($0["feature"], $0["model"]) }
        rows.rules = try SQLRow.fetchAll(db, sql: "SELECT feature, kind, equipment FROM catalog_equipment_rule ORDER BY feature, kind, position")
            .map { ($0["feature"], $0["kind"], $0["equipment"]) }
        rows.prices = try SQLRow.fetchAll(db, sql: "SELECT * FROM catalog_price ORDER BY feature, position")
            .map { .init(feature: $0["feature"], market: $0["market"], term: $0["term"], currency: $0["currency"], gross: $0["gross_minor"], vat: $0["vat_bps"]) }
        rows.features = try SQLRow.fetchAll(db, sql: "SELECT * FROM catalog_feature ORDER BY position").map {
            ($0["code"], $0["name"], $0["min_model_year"], ($0["transferable"] as Int64?) != 0)
        }
        rows.equipment = try SQLRow.fetchAll(db, sql: "SELECT code, name FROM equipment").map { ($0["code"], $0["name"]) }
        return try rows.catalog()
    }
}

/// The catalog tables' rows as read (features in position order, rules and prices ordered by
/// feature and position): both stores assemble the catalog from them.
public struct CatalogRows {
    public struct PriceRow {
        public let feature: String, market: String, term: String, currency: String, gross: Int64, vat: Int64
        public init(feature: String, market: String, term: String, currency: String, gross: Int64, vat: Int64) {
            self.feature = feature
            self.market = market
            self.term = term
            self.currency = currency
            self.gross = gross
            self.vat = vat
        }
    }

    public let version: String
    public var features: [(code: String, name: String, minModelYear: Int?, transferable: Bool)] = []
    public var models: [(feature: String, model: String)] = []
    public var rules: [(feature: String, kind: String, equipment: String)] = []
    public var prices: [PriceRow] = []
    public var equipment: [(code: String, name: String)] = []

    public init(version: String) { self.version = version }

    /// The catalog.
    /// - Throws: ``StoreError`` `store_database` when a stored value does not validate.
    public func catalog() throws -> Catalog {
        var models: [String: Set<String>] = [:]
        for row in self.models { models[row.feature, default: []].insert(row.model) }
        var rules: [String: (requires: [String], excludes: [String])] = [:]
        for row in self.rules {
            if row.kind == "requires" { rules[row.feature, default: ([], [])].requires.append(row.equipment) } else {
                rules[row.feature, default: ([], [])].excludes.append(row.equipment)
            }
        }
        var prices: [String: [Price]] = [:]
        for row in self.prices {
            prices[row.feature, default: []].append(try StoreRows.stored {
                Price(market: try Market(row.market), term: try Term(validating: row.term), gross: Money(minor: row.gross, try Currency(row.currency)),
                      vat: try BasisPoints(row.vat))
            })
        }
        let features = try self.features.map { row -> CatalogFeature in
            try StoreRows.stored {
                CatalogFeature(code: try FeatureCode(row.code), name: row.name, models: models[row.code] ?? [], minModelYear: row.minModelYear,
                               requires: rules[row.code]?.requires ?? [], excludes: rules[row.code]?.excludes ?? [], prices: prices[row.code] ?? [],
                               transferable: row.transferable)
            }
        }
        var names: [String: String] = [:]
        for row in equipment { names[row.code] = row.name }
        return Catalog(version: version, features: features, equipmentNames: names)
    }
}
