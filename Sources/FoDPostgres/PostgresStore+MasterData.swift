import FoDCore
import FoDEntitlements
import FoDStore
import PostgresNIO

extension PostgresStore {
    public func importFixtures(dealers: String, vehicles: String, catalog: String, actor: String, at now: Int64) async throws {
        let fixtures = try Fixtures(dealers: dealers, vehicles: vehicles, catalog: catalog)
        try await write("fixtures import", limit: PostgresStore.bulkTimeout) { tx in
            for dealer in fixtures.dealers {
                try await tx.query("""
                    INSERT INTO dealer (id, name, market, party) VALUES (\(dealer.id.value), \(dealer.name), \(dealer.market), \(dealer.partyJSON))
                    ON CONFLICT (id) DO UPDATE SET name = excluded.name, market = excluded.market, party = excluded.party
                    """)
            }
            try await PostgresStore.upsert(fixtures.vehicles, tx, at: now)
            try await self.storeCatalog(fixtures.catalog, tx)
            try await tx.audit(at: now, actor: actor, action: "fixtures.import", subject: "catalog \(fixtures.catalog.version)", details: fixtures.auditDetails)
        }
    }

    public func register(_ vehicle: Vehicle, actor: String, at now: Int64) async throws {
        try await write("vehicle register") { tx in
            try await self.upsert(vehicle, tx, at: now)
            try await tx.audit(at: now, actor: actor, action: "vehicle.register", subject: vehicle.vin.value,
                               details: "model=\(vehicle.model) year=\(vehicle.modelYear) market=\(vehicle.market)")
        }
    }

    private func upsert(_ vehicle: Vehicle, _ tx: WriteTransaction, at now: Int64) async throws {
        do { try vehicle.validate() } catch let error as EntitlementError {
            throw StoreError(.invalid, "vehicle \(vehicle.vin): \(error.reason)")
        }
        if let dealer = vehicle.servicingDealer { try await self.requireDealer(dealer, tx) }
        try await tx.query("""
            INSERT INTO vehicle (vin, model, model_year, market, equipment, dealer_id, created_at)
            VALUES (\(vehicle.vin.value), \(vehicle.model), \(Int64(vehicle.modelYear)), \(vehicle.market.code), \(StoreRows.equipmentColumn(vehicle)),
                    \(vehicle.servicingDealer?.value), \(now))
            ON CONFLICT (vin) DO UPDATE SET model = excluded.model, model_year = excluded.model_year, market = excluded.market,
              equipment = excluded.equipment, dealer_id = excluded.dealer_id
            """)
    }

    /// Inserts or updates many vehicles with one statement per 5,000 (a fixtures import).
    /// - Throws: ``StoreError`` `invalid` for a vehicle that does not validate, `dealer_unknown`.
    static func upsert(_ listed: [Vehicle], _ tx: WriteTransaction, at now: Int64) async throws {
        // A VIN listed twice: the later entry wins, as with one upsert after the other.
        var seen: Set<VIN> = []
        let vehicles = Array(listed.reversed().filter { seen.insert($0.vin).inserted }.reversed())
        for vehicle in vehicles {
            do { try vehicle.validate() } catch let error as EntitlementError {
                throw StoreError(.invalid, "vehicle \(vehicle.vin): \(error.reason)")
            }
        }
        let named = Array(Set(vehicles.compactMap { $0.servicingDealer?.value }))
        var known: Set<String> = []
        for try await id in try await tx.query("SELECT id FROM dealer WHERE id = ANY(\(named)::text[])").decode(String.self) { known.insert(id) }
        if let missing = named.sorted().first(where: { !known.contains($0) }) {
            throw StoreError(.dealerUnknown, "dealer \(missing) is not known: add it to the dealer master data first")
        }
        var start = 0
        while start < vehicles.count {
            let chunk = Array(vehicles[start..<min(start + 5000, vehicles.count)])
            try await tx.query("""
                INSERT INTO vehicle (vin, model, model_year, market, equipment, dealer_id, created_at)
                SELECT vin, model, year, market, equipment, NULLIF(dealer, ''), \(now)
                FROM unnest(\(chunk.map(\.vin.value))::text[], \(chunk.map(\.model))::text[], \(chunk.map { Int64($0.modelYear) })::bigint[],
                            \(chunk.map(\.market.code))::text[], \(chunk.map(StoreRows.equipmentColumn))::text[],
                            \(chunk.map { $0.servicingDealer?.value ?? "" })::text[]) AS r (vin, model, year, market, equipment, dealer)
                ON CONFLICT (vin) DO UPDATE SET model = excluded.model, model_year = excluded.model_year, market = excluded.market,
                  equipment = excluded.equipment, dealer_id = excluded.dealer_id
                """)
            start += chunk.count
        }
    }

    /// Fails unless `dealer` is in the master data.
    /// - Throws: ``StoreError`` `dealer_unknown`.
    func requireDealer(_ dealer: DealerID, _ tx: WriteTransaction) async throws {
        guard try await tx.count("SELECT 1 FROM dealer WHERE id = \(dealer.value)") == 1 else {
            throw StoreError(.dealerUnknown, "dealer \(dealer) is not known: add it to the dealer master data first")
        }
    }

    /// Concurrent calls share one statement (``vehicleReads``): the hot read of an activation.
    public func vehicle(_ vin: VIN) async throws -> Vehicle? { try await vehicleReads.submit(vin) }

    /// The vehicles of a batched read, one result per VIN.
    func vehicles(_ group: PendingGroup<VIN>) async throws -> [Result<Vehicle?, StoreError>] {
        let vins = group.take().records
        let found = try await read("vehicle read") { connection in
            var found: [VIN: Vehicle] = [:]
            let rows = try await connection.query("""
                SELECT vin, model, model_year, market, equipment, dealer_id FROM vehicle WHERE vin = ANY(\(Array(Set(vins.map(\.value))))::text[])
                """, logger: self.logger)
            for try await (vin, model, year, market, equipment, dealer) in rows.decode((String, String, Int64, String, String, String?).self) {
                let key = try StoreRows.stored { try VIN(vin) }
                found[key] = try StoreRows.vehicle(vin: key, model: model, modelYear: Int(year), market: market, equipment: equipment, dealer: dealer)
            }
            return found
        }
        return vins.map { .success(found[$0]) }
    }

    static func vehicle(_ vin: VIN, _ connection: PostgresConnection, _ logger: Logger) async throws -> Vehicle? {
        let rows = try await connection.query("SELECT model, model_year, market, equipment, dealer_id FROM vehicle WHERE vin = \(vin.value)", logger: logger)
        for try await (model, year, market, equipment, dealer) in rows.decode((String, Int64, String, String, String?).self) {
            return try StoreRows.vehicle(vin: vin, model: model, modelYear: Int(year), market: market, equipment: equipment, dealer: dealer)
        }
        return nil
    }

    /// Two statements, no transaction: an entitlement booked between them only changes what a
    /// quote or a page shows, and the booking itself checks again under the write lock.
    public func vehicleWithEntitlements(_ vin: VIN) async throws -> (vehicle: Vehicle, entitlements: [StoredEntitlement])? {
        try await read("vehicle read") { connection in
            guard let vehicle = try await PostgresStore.vehicle(vin, connection, self.logger) else { return nil }
            return (vehicle, try await PostgresStore.entitlements(vin, connection, self.logger))
        }
    }

    public func assignDealer(_ dealer: DealerID, to vin: VIN, from: Int64, actor: String, at now: Int64) async throws {
        try await write("dealer assignment") { tx in
            guard try await tx.count("SELECT 1 FROM vehicle WHERE vin = \(vin.value)") == 1 else { throw StoreError(.notFound, "no vehicle \(vin)") }
            try await self.requireDealer(dealer, tx)
            try await tx.query("""
                INSERT INTO vehicle_dealer (vin, valid_from, dealer_id, recorded_at) VALUES (\(vin.value), \(from), \(dealer.value), \(now))
                ON CONFLICT (vin, valid_from) DO UPDATE SET dealer_id = excluded.dealer_id, recorded_at = excluded.recorded_at
                """)
            try await tx.audit(at: now, actor: actor, action: "vehicle.dealer", subject: vin.value,
                               details: "dealer=\(dealer) from=\(Instant(unixSeconds: from).rfc3339)")
        }
    }

    public func dealerAssignments(of vin: VIN) async throws -> [DealerAssignment] {
        try await read("dealer assignments read") { connection in
            var assignments: [DealerAssignment] = []
            for try await (from, dealer) in try await connection.query(
                "SELECT valid_from, dealer_id FROM vehicle_dealer WHERE vin = \(vin.value) ORDER BY valid_from", logger: self.logger).decode((Int64, String).self) {
                assignments.append(DealerAssignment(from: from, dealer: try StoreRows.stored { try DealerID(dealer) }))
            }
            return assignments
        }
    }

    public func dealer(_ id: DealerID) async throws -> Dealer? {
        try await read("dealer read") { connection in
            for try await (name, market, party) in try await connection.query("SELECT name, market, party FROM dealer WHERE id = \(id.value)", logger: self.logger)
                .decode((String, String, String?).self) {
                return Dealer(id: id, name: name, market: market, party: try Dealer.party(json: party))
            }
            return nil
        }
    }

    public func catalog() async throws -> Catalog {
        let catalog = try await read("catalog read", consistent: true) { connection -> Catalog? in
            var version: String?
            for try await value in try await connection.query("SELECT version FROM catalog_version WHERE id = 1", logger: self.logger).decode(String.self) {
                version = value
            }
            guard let version else { return nil }
            var rows = CatalogRows(version: version)
            for try await row in try await connection.query("SELECT feature, model FROM catalog_feature_model", logger: self.logger).decode((String, String).self) {
                rows.models.append(row)
            }
            for try await row in try await connection.query(
                "SELECT feature, kind, equipment FROM catalog_equipment_rule ORDER BY feature, kind, position", logger: self.logger).decode((String, String, String).self) {
                rows.rules.append(row)
            }
            for try await (feature, market, term, currency, gross, vat) in try await connection.query(
                "SELECT feature, market, term, currency, gross_minor, vat_bps FROM catalog_price ORDER BY feature, position", logger: self.logger)
                .decode((String, String, String, String, Int64, Int64).self) {
                rows.prices.append(.init(feature: feature, market: market, term: term, currency: currency, gross: gross, vat: vat))
            }
            for try await (code, name, year, transferable) in try await connection.query(
                "SELECT code, name, min_model_year, transferable FROM catalog_feature ORDER BY position", logger: self.logger).decode((String, String, Int64?, Bool).self) {
                rows.features.append((code, name, year.map(Int.init), transferable))
            }
            for try await row in try await connection.query("SELECT code, name FROM equipment", logger: self.logger).decode((String, String).self) {
                rows.equipment.append(row)
            }
            return try rows.catalog()
        }
        guard let catalog else { throw StoreError(.notFound, "no catalog is loaded") }
        return catalog
    }

    /// Replaces the stored catalog (inside the caller's transaction).
    private func storeCatalog(_ catalog: Catalog, _ tx: WriteTransaction) async throws {
        try await tx.query("DELETE FROM catalog_price")
        try await tx.query("DELETE FROM catalog_equipment_rule")
        try await tx.query("DELETE FROM catalog_feature_model")
        try await tx.query("DELETE FROM catalog_feature")
        try await tx.query("DELETE FROM equipment")
        try await tx.query("DELETE FROM catalog_version")
        try await tx.query("INSERT INTO catalog_version (id, version) VALUES (1, \(catalog.version))")
        for (position, feature) in catalog.features.enumerated() {
            let code = feature.code.value
            try await tx.query("""
                INSERT INTO catalog_feature (code, position, name, min_model_year, transferable)
                VALUES (\(code), \(Int64(position)), \(feature.name), \(feature.minModelYear.map(Int64.init)), \(feature.transferable))
                """)
            for model in feature.models.sorted() {
                try await tx.query("INSERT INTO catalog_feature_model (feature, model) VALUES (\(code), \(model))")
            }
            for (kind, list) in [("requires", feature.requires), ("excludes", feature.excludes)] {
                for (index, equipment) in list.enumerated() {
                    try await tx.query("INSERT INTO catalog_equipment_rule (feature, kind, equipment, position) VALUES (\(code), \(kind), \(equipment), \(Int64(index)))")
                }
            }
            for (index, price) in feature.prices.enumerated() {
                try await tx.query("""
                    INSERT INTO catalog_price (feature, market, term, currency, gross_minor, vat_bps, position)
                    VALUES (\(code), \(price.market.code), \(price.term.rawValue), \(price.currency.code), \(price.gross.minor), \(price.vat.value), \(Int64(index)))
                    """)
            }
        }
        for (code, name) in catalog.equipmentNames.sorted(by: { $0.key < $1.key }) {
            try await tx.query("INSERT INTO equipment (code, name) VALUES (\(code), \(name))")
        }
    }
}
