import FoDCore
import FoDEntitlements
import GRDB

/// A dealer.
public struct Dealer: Sendable, Hashable {
    public let id: DealerID
    public let name: String
    public let market: String
}

extension FoDDatabase {
    /// Loads dealers, vehicles and the catalog from JSON documents (the demo fixtures), replacing
    /// what is there. Vehicles and dealers are upserted; the catalog replaced.
    /// - Throws: ``StoreError`` `invalid` naming the bad record.
    public func importFixtures(dealers: String, vehicles: String, catalog: String, actor: String, at now: Int64) throws {
        let catalogValue: Catalog
        do { catalogValue = try Catalog(json: catalog) } catch { throw StoreError(.invalid, "catalog: \(error)") }
        let dealerList = try FoDDatabase.objects(dealers, "dealers")
        let vehicleList = try FoDDatabase.objects(vehicles, "vehicles")
        // The same vehicle document as `POST /v1/vehicles`, read by the same decoder.
        var parsedVehicles: [Vehicle] = []
        for object in vehicleList {
            do { parsedVehicles.append(try StrictJSON.decode(Vehicle.self, from: object)) } catch let error as any CodedError {
                throw StoreError(.invalid, "vehicle \(object["vin"]?.string ?? "?"): \(error.reason)")
            }
        }
        try write { db in
            for object in dealerList {
                guard let id = object["id"]?.string, let name = object["name"]?.string, let market = object["market"]?.string else {
                    throw StoreError(.invalid, "every dealer needs id, name and market")
                }
                _ = try FoDDatabase.validated { try DealerID(id) }
                try db.execute(sql: "INSERT INTO dealer (id, name, market) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name, market = excluded.market",
                               arguments: [id, name, market])
            }
            for vehicle in parsedVehicles { try FoDDatabase.upsert(vehicle, db, at: now) }
            try FoDDatabase.storeCatalog(catalogValue, db)
            try FoDDatabase.appendAudit(db, at: now, actor: actor, action: "fixtures.import", subject: "catalog \(catalogValue.version)",
                                        details: "dealers=\(dealerList.count) vehicles=\(parsedVehicles.count) features=\(catalogValue.features.count)")
        }
    }

    /// Registers or updates a vehicle.
    public func register(_ vehicle: Vehicle, actor: String, at now: Int64) throws {
        try write { db in
            try FoDDatabase.upsert(vehicle, db, at: now)
            try FoDDatabase.appendAudit(db, at: now, actor: actor, action: "vehicle.register", subject: vehicle.vin.value,
                                        details: "model=\(vehicle.model) year=\(vehicle.modelYear) market=\(vehicle.market)")
        }
    }

    private static func upsert(_ vehicle: Vehicle, _ db: Database, at now: Int64) throws {
        do { try vehicle.validate() } catch let error as EntitlementError {
            throw StoreError(.invalid, "vehicle \(vehicle.vin): \(error.reason)")
        }
        if let dealer = vehicle.servicingDealer { try requireDealer(dealer, db) }
        try db.execute(sql: """
            INSERT INTO vehicle (vin, model, model_year, market, equipment, dealer_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(vin) DO UPDATE SET model = excluded.model, model_year = excluded.model_year, market = excluded.market,
              equipment = excluded.equipment, dealer_id = excluded.dealer_id
            """, arguments: [vehicle.vin.value, vehicle.model, vehicle.modelYear, vehicle.market.code,
                             vehicle.equipment.sorted().joined(separator: ","), vehicle.servicingDealer?.value, now])
    }

    /// Fails unless `dealer` is in the master data (checked in the transaction that refers to it).
    /// - Throws: ``StoreError`` `dealer_unknown`.
    static func requireDealer(_ dealer: DealerID, _ db: Database) throws {
        guard try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM dealer WHERE id = ?)"), arguments: [dealer.value]) == true else {
            throw StoreError(.dealerUnknown, "dealer \(dealer) is not known: add it to the dealer master data first")
        }
    }

    /// The vehicle with this VIN, or `nil`.
    public func vehicle(_ vin: VIN) throws -> Vehicle? {
        try read { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM vehicle WHERE vin = ?"), arguments: [vin.value]) else { return nil }
            let equipment: String = row["equipment"]
            let dealer: String? = row["dealer_id"]
            return Vehicle(vin: vin, model: row["model"], modelYear: row["model_year"], market: try FoDDatabase.stored { try Market(row["market"]) },
                           equipment: Set(equipment.split(separator: ",").map(String.init)),
                           servicingDealer: try dealer.map { try DealerID($0) })
        }
    }

    /// The current catalog.
    /// - Throws: ``StoreError`` `not_found` when none was loaded.
    public func catalog() throws -> Catalog {
        guard let catalog = try read({ db in try FoDDatabase.loadCatalog(db) }) else { throw StoreError(.notFound, "no catalog is loaded") }
        return catalog
    }

    /// The dealer with this id.
    public func dealer(_ id: DealerID) throws -> Dealer? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM dealer WHERE id = ?", arguments: [id.value]).map {
                Dealer(id: id, name: $0["name"], market: $0["market"])
            }
        }
    }

    static func objects(_ text: String, _ what: String) throws -> [JSONObject] {
        do {
            guard case .array(let items) = try JSONParser.parse(text) else { throw StoreError(.invalid, "\(what): a JSON array is expected") }
            return try items.map {
                guard case .object(let object) = $0 else { throw StoreError(.invalid, "\(what): every entry must be an object") }
                return object
            }
        } catch let error as StoreError { throw error } catch { throw StoreError(.invalid, "\(what): \(error)") }
    }

    /// A value read back from a table, validated: one that does not validate is a damaged
    /// database, not a bad request.
    /// - Throws: ``StoreError`` `store_database`.
    static func stored<T>(_ make: () throws -> T) throws -> T {
        do { return try make() } catch let error as any CodedError {
            throw StoreError(.database, "a stored value does not validate: \(error.reason)")
        }
    }

    static func validated<T>(_ make: () throws -> T) throws -> T {
        do { return try make() } catch let error as StoreError { throw error } catch { throw StoreError(.invalid, "\(error)") }
    }
}
