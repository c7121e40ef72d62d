import FoDAPI
import FoDCore
import FoDCrypto
import FoDInvoicing
import FoDEntitlements
import FoDPostgres
import FoDServer
import FoDStore
import FoDTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Databases written by a release open in the next one: the files in `Tests/Vectors/upgrade-2026-12`
/// were written by the release of December 2026 (schema SQLite `v15`, PostgreSQL `pg-v9`) — an SQLite
/// file and a `pg_dump` of a schema — with every table holding rows, and the rows as that release
/// read them. `FOD_WRITE_UPGRADE_FIXTURE=1 scripts/test --filter Upgrade` writes them again (only
/// ever with the release whose databases they stand for).
@Suite("Upgrade in place")
struct UpgradeTests {
    static let folder = TestPaths.file("Tests/Vectors/upgrade-2026-12")
    static let write = ProcessInfo.processInfo.environment["FOD_WRITE_UPGRADE_FIXTURE"] == "1"
    /// The PostgreSQL schema the dump was taken from (renamed when it is restored).
    static let dumpSchema = "fod_upgrade_fixture"

    @Test("a database written by the last release upgrades in place, and every row of every table reads back as it was written",
          arguments: StoreBackend.all)
    func upgradeInPlace(backend: StoreBackend) async throws {
        if Self.write { try await Self.writeFixture(backend) }
        let expected = try JSONDecoder().decode([String: [[String?]]].self,
                                                from: Data(contentsOf: Self.folder.appendingPathComponent("rows-\(backend.rawValue).json")))
        let store = try await Self.openFixture(backend)
        defer { (store as? PostgresStore)?.shutdown() }
        let rows = try await Self.rows(store)
        // The release's tables (it did not list `health`, a readiness check's timestamp); the network's, the catalog's, plans', quotes', the cars'
        // reports and the back office's sessions and proposals came after it.
        #expect(Set(TableDump.tableOrder).subtracting(expected.keys) == ["health", "partner", "partner_version", "salesperson", "catalog_history", "campaign", "feature_retirement", "plan_version",
                                                                         "quote", "quote_item", "vehicle_state", "staff_session", "proposal"])
        for table in expected.keys.sorted() {
            let before = expected[table] ?? []
            #expect(!before.isEmpty, "the fixture has rows in \(table)")
            // Columns added later come after the ones the release wrote.
            let after = (rows[table] ?? []).map { Array($0.prefix(before.first?.count ?? 0)) }
            #expect(after == before, "\(table)")
        }
        // And through the store's operations: the chain, the catalog, every vehicle's entitlements, the closed month.
        #expect(try await store.verifyAudit() == Int64(expected["audit"]?.count ?? -1))
        #expect(try await store.catalog().features.count == expected["catalog_feature"]?.count)
        for vin in expected["vehicle"]?.compactMap({ $0.first ?? nil }) ?? [] {
            _ = try #require(try await store.vehicleWithEntitlements(try VIN(vin)))
        }
        #expect(try await store.closedPeriod("2026-11")?.creditNotes.count == expected["credit_note"]?.count)
        #expect(try await store.objections(creditNote: nil, dealer: nil, status: nil).count == 1)
        #expect(try await store.webhooks().count == 1)
        // The key ids of tokens stored before they were kept are recorded (once) and listed.
        #expect(try await store.entitlementKeyIDs().count == 1)
        #expect(try await store.events(after: 0, limit: 1_000, dealer: nil).count == expected["outbox"]?.count)

        // Every dealer became a partner of the same id with that one site, its party data the partner's first version.
        let network = try await store.network()
        for row in expected["dealer"] ?? [] {
            let id = try PartnerID(row[0] ?? "")
            let partner = try #require(network.partners[id])
            #expect(network.sites(of: id).map(\.id.value) == [id.value] && partner.versions.count == 1)
            let stored = try row[3].map { try JSONDecoder().decode(LegalParty.self, from: Data($0.utf8)) }
            #expect(partner.version(at: TestService.now).details.party == stored && partner.version(at: 0).details.name == row[1])
        }
        // The closed month's credit notes, statement and book extracts read and verify as before.
        let closed = try #require(try await store.closedPeriod("2026-11"))
        for row in expected["credit_note"] ?? [] {
            let note = try #require(try await store.creditNote(row[0] ?? ""))
            #expect(note.dealerID == row[2] && (try? note.check()) != nil)
            #expect(try String(decoding: JSONEncoder.sorted.encode(note), as: UTF8.self).count > 0 && note.ciiXML().contains(row[0] ?? "-"))
            let lines = try await BookExtract.make(store, dealer: row[2] ?? "", from: "2026-11", to: "2026-11").lines
            #expect(lines.count == (expected["closed_line"] ?? []).filter { $0[2] == row[2] }.count, "the book extract of \(row[2] ?? "")")
        }
        // The catalog of before is the history's first version, since the epoch; no plan is stored (the --rules file prices).
        let history = try await store.catalogHistory()
        #expect(history.versions.count == 1 && history.versions.first?.effectiveAt == 0 && history.campaigns.isEmpty)
        #expect(history.versions.first?.catalog.features.count == expected["catalog_feature"]?.count)
        var keys: [TrustedKey] = []
        for jwks in try await store.statementKeys() { keys += (try? KeySet(jwksJSON: jwks).keys) ?? [] }
        _ = try DetachedJWS.verify(closed.signature, payload: Array(closed.statement.utf8), keys: KeySet(keys))
    }

    /// Every table's rows as text (integers in decimal, truth values as 0 and 1, bytes in hex),
    /// sorted, so that the same rows compare equal whatever order a database returns them in.
    static func rows(_ store: any EntitlementStore) async throws -> [String: [[String?]]] {
        let store = try #require(store as? any SQLStore)
        return try await store.transaction(.report, "fixture rows") { db in
            var tables: [String: [[String?]]] = [:]
            for table in TableDump.tableOrder {
                let columns = try db.columns(in: table)
                tables[table] = try SQLRow.fetchAll(db, sql: "SELECT \(columns.joined(separator: ", ")) FROM \(table)").map { row in
                    row.values.map { value -> String? in
                        switch value {
                        case .null: nil
                        case .integer(let number): String(number)
                        case .bool(let truth): truth ? "1" : "0"
                        case .real(let real): String(real)
                        case .text(let text): text
                        case .blob(let bytes): Hex.encode(bytes)
                        }
                    }
                }.sorted { $0.map { $0 ?? "\u{0}" }.lexicographicallyPrecedes($1.map { $0 ?? "\u{0}" }) }
            }
            return tables
        }
    }

    /// A copy of the fixture, opened (and so migrated) by this build.
    static func openFixture(_ backend: StoreBackend) async throws -> any EntitlementStore {
        switch backend {
        case .sqlite:
            let path = try TestPaths.temporaryDirectory().appendingPathComponent("fod.sqlite").path
            try FileManager.default.copyItem(atPath: folder.appendingPathComponent("fod.sqlite").path, toPath: path)
            return try SQLiteStore(path: path)
        case .postgres:
            let base = try #require(StoreBackend.postgresURL)
            let schema = "t_" + Hex.encode(SecureRandom.bytes(8))
            let dump = try String(contentsOf: folder.appendingPathComponent("postgres.sql"), encoding: .utf8)
                .replacingOccurrences(of: dumpSchema, with: schema)
            let file = try TestPaths.temporaryDirectory().appendingPathComponent("dump.sql")
            try dump.write(to: file, atomically: true, encoding: .utf8)
            let restored = try ProcessRunner.run("psql", [base, "-v", "ON_ERROR_STOP=1", "-q", "-f", file.path])
            try #require(restored.status == 0, "\(restored.diagnosis)")
            let store = try PostgresStore(url: try DatabaseURL(base + (base.contains("?") ? "&" : "?") + "search_path=\(schema)"), maximumConnections: 4)
            try await store.start()
            return store
        }
    }

    /// Writes the fixture of `backend`: a database with rows in every table, and its rows.
    static func writeFixture(_ backend: StoreBackend) async throws {
        let clock = SettableClock(TestService.now)
        let service: TestService
        if backend == .postgres {
            let base = try #require(StoreBackend.postgresURL)
            _ = try ProcessRunner.run("psql", [base, "-qc", "DROP SCHEMA IF EXISTS \(dumpSchema) CASCADE"])
            service = try await TestService(backend, clock: clock, schema: dumpSchema)
        } else {
            service = try await TestService(backend, clock: clock)
        }
        try await populate(service, clock: clock)
        let rows = try await rows(service.database.store)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try encoder.encode(rows).write(to: folder.appendingPathComponent("rows-\(backend.rawValue).json"))
        switch backend {
        case .sqlite:
            let target = folder.appendingPathComponent("fod.sqlite").path
            try? FileManager.default.removeItem(atPath: target)
            try (service.database.store as? SQLiteStore)?.database.backup(to: target)
        case .postgres:
            let base = try #require(StoreBackend.postgresURL)
            let dumped = try ProcessRunner.run("pg_dump", ["--schema=\(dumpSchema)", "--no-owner", "--no-privileges", "-f",
                                                            folder.appendingPathComponent("postgres.sql").path, base])
            try #require(dumped.status == 0, "\(dumped.diagnosis)")
            (service.database.store as? PostgresStore)?.shutdown()
        }
    }

    /// A month of business through the API and the store: rows in every table.
    static func populate(_ service: TestService, clock: SettableClock) async throws {
        let store = service.database.store
        let webhook = try await store.createWebhook(url: "https://hooks.example/fod", types: [], secret: "whsec_fixture", actor: "test", at: TestService.now)
        try await service.app.test(.router) { client in
            func call(_ method: HTTPRequest.Method, _ uri: String, _ key: String, _ text: String? = nil, idempotency: String? = nil) async throws -> [String: Any] {
                try await client.execute(uri: uri, method: method, headers: headers(key, idempotency: idempotency), body: text.map(body)) { response async throws in
                    #expect(response.status.code < 300, "\(uri): \(String(buffer: response.body))")
                    return try json(response)
                }
            }
            let nav = try await call(.post, "/v1/purchases", service.issuer, PurchaseFlowTests.purchase(order: "U-1", vin: "WAUZZZF45RA000001"))
            let subscription = try await call(.post, "/v1/purchases", service.issuer,
                                              PurchaseFlowTests.purchase(order: "U-2", feature: "ACC", term: "subscription", gross: 2_499, vin: "WAUZZZF45RA000001"))
            let matrix = try await call(.post, "/v1/activations", service.dealer2, #"{"vin":"WAUZZZFY7P2000002","feature":"NAV_PLUS","term":"P1M"}"#, idempotency: "u-3")
            let counter = try await call(.post, "/v1/activations", service.dealer2, #"{"vin":"\#(RenewalTests.counter)","feature":"ACC","term":"subscription"}"#,
                                         idempotency: "u-4")
            _ = try await call(.post, "/v1/activations/\(matrix["id"] as? String ?? "")/refund", service.issuer, "{}")
            let navID = nav["id"] as? String ?? ""
            _ = try await call(.post, "/v1/entitlements/\(navID)/revoke", service.issuer, #"{"reason":"fraud check"}"#)
            _ = try await call(.post, "/v1/entitlements/\(navID)/reinstate", service.issuer, #"{"reason":"cleared"}"#)
            _ = try await call(.post, "/v1/entitlements/\(subscription["id"] as? String ?? "")/cancel", service.issuer, "{}")
            _ = try await call(.put, "/v1/vehicles/WAUZZZFY7P2000002/dealer", service.issuer,
                               #"{"dealer_id":"DE-10001","from":"\#(Instant(unixSeconds: TestService.now + 86_400).rfc3339)"}"#)
            _ = try await call(.post, "/v1/vehicles/WAUZZZFY7P2000002/transfer", service.issuer, "{}")
            _ = try await call(.get, "/v1/vehicles/WAUZZZF45RA000001/manifest", service.issuer)
            // November closes on December 1st; an objection to it is adjusted.
            clock.set(PeriodCloseTests.decemberFirst + 60)
            let closed = try await call(.post, "/v1/periods/2026-11/close", service.auditor)
            let notes = closed["credit_notes"] as? [[String: Any]] ?? []
            let number = notes.first { $0["dealer_id"] as? String == "DE-10001" }?["number"] as? String ?? ""
            let objection = try await call(.post, "/v1/credit-notes/\(number)/objections", service.dealer1, #"{"reason":"the tier bonus is missing"}"#)
            _ = try await call(.post, "/v1/objections/\(objection["id"] as? String ?? "")/resolve", service.auditor,
                               #"{"decision":"adjust","amount":"12.34","reason":"tier bonus of November"}"#)
            // The counter subscription is renewed two days before it ends.
            clock.set((counter["expires_at"] as? Int64 ?? 0) - 2 * 86_400)
            #expect(try await RenewalService(services: service.services).run(lead: 3 * 86_400).renewed == 1)
        }
        let now = clock.unixSeconds()
        let claim = try #require(try await store.claimWebhook(owner: "fixture", nowMs: now * 1_000, leaseMs: 30_000, limit: 2))
        try await store.recordAttempts(claim, owner: "fixture", claim.events.map {
            WebhookAttempt(seq: $0.seq, outcome: .delivered(status: 204), attempts: 1, firstAttemptMs: now * 1_000, atMs: now * 1_000)
        })
        #expect(claim.endpoint.id == webhook.id)
        let dealer = try #require(try await store.authenticate(secret: service.dealer1, at: TestService.now))
        _ = try await store.createSession(for: dealer, lifetime: 3_600, at: now)
        _ = try await store.sharedSecret("dealer-csrf")
        #expect(try await store.recordRootVersion(RootVersionRecord(version: 1, keys: [
            .init(kid: "fixture-1", scope: ["entitlement", "manifest"], notBefore: "2026-01-01T00:00:00Z", notAfter: "2027-01-01T00:00:00Z"),
        ]), at: now))
        try await store.keepStatementKey(kid: "fixture-statement", jwk: #"{"kty":"EC"}"#, at: now)
        try await store.checkWritable()
    }
}
