import FoDCore
import FoDEntitlements
import FoDInvoicing
import Foundation

extension JSONEncoder {
    /// Sorted members, no escaped slashes: the stores' JSON documents.
    public static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}

/// A vehicle's servicing dealer from a moment on (master data with effective dates).
public struct DealerAssignment: Sendable, Hashable {
    /// From when (Unix seconds) the dealer looks after the vehicle.
    public let from: Int64
    public let dealer: DealerID

    public init(from: Int64, dealer: DealerID) {
        self.from = from
        self.dealer = dealer
    }

    /// The servicing dealer at `instant`: the latest assignment in force then, else the
    /// registration's dealer (`base`).
    /// - Parameter assignments: oldest first (``MasterDataStore/dealerAssignments(of:)``).
    public static func dealer(at instant: Int64, _ assignments: [DealerAssignment], base: DealerID?) -> DealerID? {
        assignments.last { $0.from <= instant }?.dealer ?? base
    }
}

/// A partner of the fixture documents with its sites and their salespeople.
public struct FixturePartner: Sendable {
    public let id: PartnerID
    public let details: PartnerDetails
    public let sites: [Site]
    public let salespeople: [Salesperson]
}

/// The fixture documents (dealers, vehicles, catalog) parsed and validated before an import
/// writes anything. `dealers.json` holds partners with their `sites` (each with `salespeople`);
/// an entry without `sites` is a dealer of before the network: a partner with one site of the
/// same id.
public struct Fixtures: Sendable {
    public let partners: [FixturePartner]
    public let vehicles: [Vehicle]
    public let catalog: Catalog

    /// Parses the three JSON documents; vehicles are read by the same decoder as `POST /v1/vehicles`.
    /// - Throws: ``StoreError`` `invalid` naming the bad record.
    public init(dealers: String, vehicles: String, catalog: String) throws {
        do { self.catalog = try Catalog(json: catalog) } catch { throw StoreError(.invalid, "catalog: \(error)") }
        self.partners = try Fixtures.objects(dealers, "dealers").map(Fixtures.partner)
        var seen = Set<String>()
        for partner in partners {
            for site in partner.sites where !seen.insert(site.id.value).inserted { throw StoreError(.invalid, "site \(site.id) is named twice") }
        }
        self.vehicles = try Fixtures.objects(vehicles, "vehicles").map { object in
            do { return try StrictJSON.decode(Vehicle.self, from: object) } catch let error as any CodedError {
                throw StoreError(.invalid, "vehicle \(object["vin"]?.string ?? "?"): \(error.reason)")
            }
        }
    }

    /// What the import's audit entry says.
    public var auditDetails: String {
        "partners=\(partners.count) sites=\(partners.reduce(0) { $0 + $1.sites.count }) vehicles=\(vehicles.count) catalog=\(catalog.version) features=\(catalog.features.count)"
    }

    private static func partner(_ object: JSONObject) throws -> FixturePartner {
        guard let id = object["id"]?.string, let name = object["name"]?.string, let market = object["market"]?.string else {
            throw StoreError(.invalid, "every partner (dealer) needs id, name and market")
        }
        let known = Set(["id", "name", "market", "main_partner", "sites"] + LegalParty.members)
        if let unknown = object.members.first(where: { !known.contains($0.name) }) {
            throw StoreError(.invalid, "dealer \(id): unknown member \"\(unknown.name.prefix(40))\"")
        }
        do {
            // The party data is optional as a whole: given, it must be complete and valid.
            var party: LegalParty?
            if LegalParty.members.contains(where: { object[$0] != nil }) {
                let document = JSONWriter.text(.object(JSONObject(members: object.members.filter { LegalParty.members.contains($0.name) })))
                do { party = try JSONDecoder().decode(LegalParty.self, from: Data(document.utf8)) } catch {
                    throw StoreError(.invalid, "dealer \(id): \(InvoicingError.describe(error))")
                }
            }
            let partner = try PartnerID(id)
            _ = try Market(market)
            let details = PartnerDetails(name: name, market: market, party: party, mainPartner: try object["main_partner"]?.string.map { try PartnerID($0) })
            guard let list = object["sites"] else {
                return FixturePartner(id: partner, details: details, sites: [Site(id: try DealerID(id), partner: partner, name: name, market: market, address: party?.address,
                                                                                  openedAt: 0, closedAt: nil, successor: nil)], salespeople: [])
            }
            guard case .array(let items) = list else { throw StoreError(.invalid, "dealer \(id): sites is a list") }
            var sites: [Site] = [], salespeople: [Salesperson] = []
            for item in items {
                guard case .object(let site) = item, let siteID = site["id"]?.string, let siteName = site["name"]?.string else {
                    throw StoreError(.invalid, "dealer \(id): every site needs id and name")
                }
                if let unknown = site.members.first(where: { !["id", "name", "market", "address", "salespeople"].contains($0.name) }) {
                    throw StoreError(.invalid, "site \(siteID): unknown member \"\(unknown.name.prefix(40))\"")
                }
                var address: PostalAddress?
                if let value = site["address"] {
                    do { address = try JSONDecoder().decode(PostalAddress.self, from: Data(JSONWriter.text(value).utf8)) } catch {
                        throw StoreError(.invalid, "site \(siteID): \(InvoicingError.describe(error))")
                    }
                }
                let dealer = try DealerID(siteID)
                let siteMarket = site["market"]?.string ?? market
                _ = try Market(siteMarket)
                sites.append(Site(id: dealer, partner: partner, name: siteName, market: siteMarket, address: address, openedAt: 0, closedAt: nil, successor: nil))
                if case .array(let people)? = site["salespeople"] {
                    for person in people {
                        guard let text = person.string else { throw StoreError(.invalid, "site \(siteID): salespeople is a list of ids") }
                        salespeople.append(Salesperson(id: try SalespersonID(text), site: dealer, activeFrom: 0, activeTo: nil))
                    }
                }
            }
            return FixturePartner(id: partner, details: details, sites: sites, salespeople: salespeople)
        } catch let error as StoreError { throw error } catch let error as any CodedError {
            throw StoreError(.invalid, "dealer \(id): \(error.reason)")
        }
    }

    private static func objects(_ text: String, _ what: String) throws -> [JSONObject] {
        do {
            guard case .array(let items) = try JSONParser.parse(text) else { throw StoreError(.invalid, "\(what): a JSON array is expected") }
            return try items.map {
                guard case .object(let object) = $0 else { throw StoreError(.invalid, "\(what): every entry must be an object") }
                return object
            }
        } catch let error as StoreError { throw error } catch { throw StoreError(.invalid, "\(what): \(error)") }
    }
}

extension SQLStore {
    /// Loads the network, vehicles and the catalog from JSON documents (a bulk load; the demo
    /// fixtures). A new partner is in force since the epoch; a known one whose data differs gets a
    /// new version from `now` (the past is not rewritten). Sites are added or renamed (a site of
    /// another partner is refused), salespeople added; vehicles upserted; the catalog replaced.
    /// - Throws: ``StoreError`` `invalid` naming the bad record.
    public func importFixtures(dealers: String, vehicles: String, catalog: String, actor: String, at now: Int64) async throws {
        let fixtures = try Fixtures(dealers: dealers, vehicles: vehicles, catalog: catalog)
        try await transaction(.bulk, "fixtures import") { db in
            // Main partners before their sub-agents.
            for partner in fixtures.partners.sorted(by: { ($0.details.mainPartner == nil ? 0 : 1) < ($1.details.mainPartner == nil ? 0 : 1) }) {
                if let known = try Self.partner(db, partner.id) {
                    let current = known.version(at: now)
                    if current.details != partner.details {
                        try Self.checkMainPartner(partner.details, of: partner.id, at: now, db)
                        try Self.insertVersion(partner.id, partner.details, validFrom: max(now, current.validFrom + 1), actor: actor, at: now, db)
                    }
                } else {
                    if let site = try Self.site(db, try DealerID(partner.id.value)), site.partner != partner.id {
                        throw StoreError(.invalid, "dealer \(partner.id): the id is a site of partner \(site.partner)")
                    }
                    try Self.checkMainPartner(partner.details, of: partner.id, at: 0, db)
                    try db.execute(sql: "INSERT INTO partner (id, joined_at, created_at) VALUES (?, 0, ?)", arguments: [partner.id.value, now])
                    try Self.insertVersion(partner.id, partner.details, validFrom: 0, actor: actor, at: now, db)
                }
                for site in partner.sites {
                    if let known = try Self.site(db, site.id), known.partner != partner.id {
                        throw StoreError(.invalid, "site \(site.id) belongs to partner \(known.partner), not \(partner.id)")
                    }
                    try db.execute(sql: """
                        INSERT INTO dealer (id, name, market, partner_id, address, opened_at) VALUES (?, ?, ?, ?, ?, 0)
                        ON CONFLICT(id) DO UPDATE SET name = excluded.name, market = excluded.market, address = excluded.address
                        """, arguments: [site.id.value, site.name, site.market, partner.id.value, Self.addressJSON(site.address)])
                }
                for person in partner.salespeople where try Self.salespeople(db, "id = ?", [person.id.value]).isEmpty {
                    try db.execute(sql: "INSERT INTO salesperson (id, site_id, active_from, active_to, recorded_at) VALUES (?, ?, 0, NULL, ?)",
                                   arguments: [person.id.value, person.site.value, now])
                }
            }
            try Self.upsert(fixtures.vehicles, db, at: now)
            try Self.keepImplicitVersion(try Self.catalogHistory(db), db, actor: actor, at: now)
            try Self.importCatalogVersion(fixtures.catalog, actor: actor, at: now, db)
            try Self.storeCatalog(fixtures.catalog, db)
            try db.appendAudit(at: now, actor: actor, action: "fixtures.import", subject: "catalog \(fixtures.catalog.version)",
                               details: fixtures.auditDetails)
        }
    }

    /// Registers or updates a vehicle.
    public func register(_ vehicle: Vehicle, actor: String, at now: Int64) async throws {
        try await write { db in
            try Self.upsert([vehicle], db, at: now)
            try db.appendAudit(at: now, actor: actor, action: "vehicle.register", subject: vehicle.vin.value,
                               details: "model=\(vehicle.model) year=\(vehicle.modelYear) market=\(vehicle.market)")
        }
    }

    /// Registers or updates vehicles, 500 to a statement.
    private static func upsert(_ vehicles: [Vehicle], _ db: any SQLConnection, at now: Int64) throws {
        for dealer in Set(vehicles.compactMap(\.servicingDealer)) { try requireDealer(dealer, db, openAt: now) }
        // A VIN named twice: the last one counts, as when each was written in turn (one statement may not change a row twice).
        var last: [String: Int] = [:]
        for (index, vehicle) in vehicles.enumerated() { last[vehicle.vin.value] = index }
        let vehicles = vehicles.enumerated().filter { last[$0.element.vin.value] == $0.offset }.map(\.element)
        for chunk in vehicles.chunks(of: 500) {
            var arguments = SQLArguments([])
            for vehicle in chunk {
                do { try vehicle.validate() } catch let error as EntitlementError {
                    throw StoreError(.invalid, "vehicle \(vehicle.vin): \(error.reason)")
                }
                arguments += [vehicle.vin.value, vehicle.model, vehicle.modelYear, vehicle.market.code, StoreRows.equipmentColumn(vehicle),
                              vehicle.servicingDealer?.value, now]
            }
            try db.execute(sql: """
                INSERT INTO vehicle (vin, model, model_year, market, equipment, dealer_id, created_at) VALUES \(SQLText.rows(chunk.count, columns: 7))
                ON CONFLICT (vin) DO UPDATE SET model = excluded.model, model_year = excluded.model_year, market = excluded.market,
                  equipment = excluded.equipment, dealer_id = excluded.dealer_id
                """, arguments: arguments)
        }
    }

    /// Fails unless `dealer` is in the master data (checked in the transaction that refers to it).
    /// - Throws: ``StoreError`` `dealer_unknown`.
    /// - Parameter instant: when given, the site must be open then.
    /// - Throws: ``StoreError`` `dealer_unknown`, `site_closed`.
    static func requireDealer(_ dealer: DealerID, _ db: any SQLConnection, openAt instant: Int64? = nil) throws {
        guard let row = try SQLRow.fetchOne(db, sql: "SELECT closed_at FROM dealer WHERE id = ?", arguments: [dealer.value]) else {
            throw StoreError(.dealerUnknown, "dealer \(dealer) is not known: add the site first (POST /v1/partners/{id}/sites)")
        }
        if let instant, let closed: Int64 = row["closed_at"], closed <= instant {
            throw StoreError(.siteClosed, "site \(dealer) is closed from \(Instant(unixSeconds: closed).rfc3339)")
        }
    }

    /// The vehicle with this VIN, or `nil`.
    public func vehicle(_ vin: VIN) async throws -> Vehicle? {
        try await vehicles([vin])[vin]
    }

    static func vehicle(_ db: any SQLConnection, _ vin: VIN) throws -> Vehicle? {
        try SQLRow.fetchAll(db, sql: vehiclesByVIN(1), arguments: [vin.value]).map(vehicle).first
    }

    /// Several vehicles in one statement (a driver batches concurrent reads with it: `PostgresStore`).
    public func vehicles(_ vins: [VIN]) async throws -> [VIN: Vehicle] {
        var found: [VIN: Vehicle] = [:]
        for chunk in Array(Set(vins)).chunks(of: 500) {
            for row in try await fetch("vehicle read", sql: Self.vehiclesByVIN(chunk.count), arguments: SQLArguments(chunk.map(\.value))) {
                let vehicle = try Self.vehicle(row)
                found[vehicle.vin] = vehicle
            }
        }
        return found
    }

    static func vehiclesByVIN(_ count: Int) -> String { "SELECT * FROM vehicle WHERE vin IN (\(SQLText.list(count)))" }

    static func vehicle(_ row: SQLRow) throws -> Vehicle {
        let vin = try StoreRows.stored { try VIN(row["vin"] as String) }
        return try StoreRows.vehicle(vin: vin, model: row["model"], modelYear: row["model_year"], market: row["market"],
                                     equipment: row["equipment"], dealer: row["dealer_id"])
    }

    /// Makes `dealer` the vehicle's servicing dealer from `from` on (replacing an assignment with the same `from`).
    /// - Throws: ``StoreError`` `not_found` (no such vehicle), `dealer_unknown`.
    public func assignDealer(_ dealer: DealerID, to vin: VIN, from: Int64, actor: String, at now: Int64) async throws {
        try await write { db in
            guard try Self.vehicle(db, vin) != nil else { throw StoreError(.notFound, "no vehicle \(vin)") }
            try Self.requireDealer(dealer, db, openAt: from)
            try db.execute(sql: """
                INSERT INTO vehicle_dealer (vin, valid_from, dealer_id, recorded_at) VALUES (?, ?, ?, ?)
                ON CONFLICT(vin, valid_from) DO UPDATE SET dealer_id = excluded.dealer_id, recorded_at = excluded.recorded_at
                """, arguments: [vin.value, from, dealer.value, now])
            try db.appendAudit(at: now, actor: actor, action: "vehicle.dealer", subject: vin.value,
                               details: "dealer=\(dealer) from=\(Instant(unixSeconds: from).rfc3339)")
        }
    }

    /// The vehicle's servicing dealers with their effective dates, oldest first.
    public func dealerAssignments(of vin: VIN) async throws -> [DealerAssignment] {
        try await read { db in
            try SQLRow.fetchAll(db, sql: "SELECT valid_from, dealer_id FROM vehicle_dealer WHERE vin = ? ORDER BY valid_from", arguments: [vin.value]).map { row in
                try StoreRows.stored { DealerAssignment(from: row["valid_from"], dealer: try DealerID(row["dealer_id"] as String)) }
            }
        }
    }

    /// The current catalog.
    /// - Throws: ``StoreError`` `not_found` when none was loaded.
    public func catalog() async throws -> Catalog {
        let stored = try await read("catalog read") { db in try Self.loadCatalog(db) }
        guard let catalog = stored else { throw StoreError(.notFound, "no catalog is loaded") }
        return catalog
    }

    static func stored<T>(_ make: () throws -> T) throws -> T { try StoreRows.stored(make) }

}
