import FoDCore
import FoDEntitlements
import FoDInvoicing
import Foundation

/// A dealer.
public struct Dealer: Sendable, Hashable {
    public let id: DealerID
    public let name: String
    public let market: String
    /// What its credit notes carry: legal name, address, VAT ID or tax number (`nil`: not given
    /// yet; the dealer's month cannot be closed with a payable amount until it is).
    public let party: LegalParty?

    public init(id: DealerID, name: String, market: String, party: LegalParty? = nil) {
        self.id = id
        self.name = name
        self.market = market
        self.party = party
    }

    /// The party as the JSON the stores keep (`nil`: none).
    public var partyJSON: String? { party.flatMap { try? String(decoding: JSONEncoder.sorted.encode($0), as: UTF8.self) } }

    /// The stored party document.
    /// - Throws: ``StoreError`` `store_database` when it is damaged.
    public static func party(json: String?) throws -> LegalParty? {
        guard let json else { return nil }
        do { return try JSONDecoder().decode(LegalParty.self, from: Data(json.utf8)) } catch {
            throw StoreError(.database, "a stored dealer party document is damaged")
        }
    }
}

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

/// The fixture documents (dealers, vehicles, catalog) parsed and validated before an import
/// writes anything.
public struct Fixtures: Sendable {
    public let dealers: [Dealer]
    public let vehicles: [Vehicle]
    public let catalog: Catalog

    /// Parses the three JSON documents; vehicles are read by the same decoder as `POST /v1/vehicles`.
    /// - Throws: ``StoreError`` `invalid` naming the bad record.
    public init(dealers: String, vehicles: String, catalog: String) throws {
        do { self.catalog = try Catalog(json: catalog) } catch { throw StoreError(.invalid, "catalog: \(error)") }
        self.dealers = try Fixtures.objects(dealers, "dealers").map { object in
            guard let id = object["id"]?.string, let name = object["name"]?.string, let market = object["market"]?.string else {
                throw StoreError(.invalid, "every dealer needs id, name and market")
            }
            let known = Set(["id", "name", "market"] + LegalParty.members)
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
                return Dealer(id: try DealerID(id), name: name, market: market, party: party)
            } catch let error as StoreError { throw error } catch let error as any CodedError {
                throw StoreError(.invalid, "dealer \(id): \(error.reason)")
            }
        }
        self.vehicles = try Fixtures.objects(vehicles, "vehicles").map { object in
            do { return try StrictJSON.decode(Vehicle.self, from: object) } catch let error as any CodedError {
                throw StoreError(.invalid, "vehicle \(object["vin"]?.string ?? "?"): \(error.reason)")
            }
        }
    }

    /// What the import's audit entry says.
    public var auditDetails: String { "dealers=\(dealers.count) vehicles=\(vehicles.count) features=\(catalog.features.count)" }

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
    /// Loads dealers, vehicles and the catalog from JSON documents (the demo fixtures), replacing
    /// what is there. Vehicles and dealers are upserted; the catalog replaced.
    /// - Throws: ``StoreError`` `invalid` naming the bad record.
    public func importFixtures(dealers: String, vehicles: String, catalog: String, actor: String, at now: Int64) async throws {
        let fixtures = try Fixtures(dealers: dealers, vehicles: vehicles, catalog: catalog)
        try await transaction(.bulk, "fixtures import") { db in
            for dealer in fixtures.dealers {
                try db.execute(sql: """
                    INSERT INTO dealer (id, name, market, party) VALUES (?, ?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET name = excluded.name, market = excluded.market, party = excluded.party
                    """, arguments: [dealer.id.value, dealer.name, dealer.market, dealer.partyJSON])
            }
            try Self.upsert(fixtures.vehicles, db, at: now)
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
        for dealer in Set(vehicles.compactMap(\.servicingDealer)) { try requireDealer(dealer, db) }
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
    static func requireDealer(_ dealer: DealerID, _ db: any SQLConnection) throws {
        guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM dealer WHERE id = ?)", arguments: [dealer.value]) == true else {
            throw StoreError(.dealerUnknown, "dealer \(dealer) is not known: add it to the dealer master data first")
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
            try Self.requireDealer(dealer, db)
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

    /// The dealer with this id.
    public func dealer(_ id: DealerID) async throws -> Dealer? {
        try await read { db in
            try SQLRow.fetchOne(db, sql: "SELECT * FROM dealer WHERE id = ?", arguments: [id.value]).map {
                Dealer(id: id, name: $0["name"], market: $0["market"], party: try Dealer.party(json: $0["party"]))
            }
        }
    }

    static func stored<T>(_ make: () throws -> T) throws -> T { try StoreRows.stored(make) }

}
