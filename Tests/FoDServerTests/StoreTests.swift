import FoDCore
import FoDCrypto
import FoDEntitlements
@testable import FoDStore
import FoDTestSupport
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Store: catalog tables, migrations, request ids")
struct StoreTests {
    static func fixture(_ name: String) throws -> String {
        try String(contentsOf: TestPaths.file("fixtures").appendingPathComponent(name), encoding: .utf8)
    }

    /// A new store of `backend` with the demo fixtures.
    static func store(_ backend: StoreBackend) async throws -> any EntitlementStore {
        let database = try await backend.makeDatabase(folder: try TestPaths.temporaryDirectory()).store
        try await database.importFixtures(dealers: try Self.fixture("dealers.json"), vehicles: try Self.fixture("vehicles.json"),
                                          catalog: try Self.fixture("catalog.json"), actor: "test", at: 1)
        return database
    }

    @Test("the catalog kept in tables reads back equal to the catalog file, order included", arguments: StoreBackend.all)
    func catalogRoundTrip(backend: StoreBackend) async throws {
        let database = try await Self.store(backend)
        let expected = try Catalog(json: try Self.fixture("catalog.json"))
        let stored = try await database.catalog()
        #expect(stored == expected)
        #expect(stored.features.map(\.code) == expected.features.map(\.code))
        #expect(stored.features.flatMap(\.prices) == expected.features.flatMap(\.prices))
        #expect(stored.features.contains { !$0.requires.isEmpty } && stored.features.contains { !$0.models.isEmpty })
        #expect(!stored.equipmentNames.isEmpty)

        // A smaller catalog (the file's first feature, no equipment names) replaces it entirely.
        guard case .object(let file) = try JSONParser.parse(try Self.fixture("catalog.json")), let first = file["features"]?.elements?.first else {
            Issue.record("the catalog fixture has no features")
            return
        }
        let smaller = JSONWriter.text(.object(JSONObject(members: [.init(name: "version", value: .string("2")),
                                                                  .init(name: "features", value: .array([first]))])))
        let one = try Catalog(json: smaller)
        #expect(one.version == "2" && one.features.map { $0.code } == [expected.features[0].code] && one.equipmentNames.isEmpty)
        try await database.importFixtures(dealers: "[]", vehicles: "[]", catalog: smaller, actor: "test", at: 2)
        #expect(try await database.catalog() == one)
    }

    @Test("manifest versions in one transaction: the same content keeps its version, a change gets the next, in request order",
          arguments: StoreBackend.all)
    func manifestVersionGroups(backend: StoreBackend) async throws {
        let database = try await Self.store(backend)
        let a = try VIN("WAUZZZF45RA000001"), b = try VIN("WVWZZZ1KZAW394821")
        let one = [ManifestClaims.Entry(id: try EntitlementID("0192d3a0-7c00-7000-8000-000000000001"), feature: try FeatureCode("NAV_PLUS"),
                                        term: .oneYear, notBefore: 10, expiresAt: 20)]
        let versions = try await database.manifestVersions([.init(vin: a, entries: []), .init(vin: b, entries: []), .init(vin: a, entries: []),
                                                      .init(vin: a, entries: one), .init(vin: b, entries: [])], at: 5)
        #expect(versions.map(\.version) == [1, 1, 1, 2, 1] && versions.map(\.issuedAt) == [5, 5, 5, 5, 5])
        #expect(try await database.manifestVersions([.init(vin: a, entries: one)], at: 6) == [ManifestVersion(version: 2, issuedAt: 5)])
        #expect(try await database.manifestVersions([.init(vin: a, entries: [])], at: 7) == [ManifestVersion(version: 3, issuedAt: 7)])
        // The same content, due for a fresher exp: the next version, issued now.
        #expect(try await database.manifestVersions([.init(vin: a, entries: [], reusableSince: 8)], at: 9) == [ManifestVersion(version: 4, issuedAt: 9)])
        #expect(try await database.manifestVersions([.init(vin: a, entries: [], reusableSince: 9)], at: 10) == [ManifestVersion(version: 4, issuedAt: 9)])
        let snapshot = try #require(try await database.manifestSnapshot(of: a))
        #expect(snapshot.last?.version == 4 && snapshot.last?.issuedAt == 9)
        #expect(snapshot.reusableVersion(for: .init(vin: a, entries: [], reusableSince: 9)) == ManifestVersion(version: 4, issuedAt: 9))
        #expect(snapshot.reusableVersion(for: .init(vin: a, entries: [], reusableSince: 10)) == nil)
        #expect(snapshot.reusableVersion(for: .init(vin: a, entries: one)) == nil)
        #expect(try await database.manifestSnapshot(of: try VIN("WAUZZZF45RA999999")) == nil)
        #expect(try await database.verifyAudit() > 0)
    }

    @Test("a database of a release before December 2026 is refused with what to do, and left as it was")
    func olderReleaseRefused() throws {
        let path = try TestPaths.temporaryDirectory().appendingPathComponent("old.sqlite").path
        do {
            // What the release of November 2026 left: its own history, up to v14.
            let queue = try DatabaseQueue(path: path)
            try queue.inDatabase { db in
                try db.execute(sql: """
                    CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
                    INSERT INTO grdb_migrations VALUES ('v1'), ('v14-trust-roots');
                    CREATE TABLE audit (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL);
                    """)
            }
        }
        #expect(throws: StoreError.self) { try FoDDatabase(path: path) }
        do { _ = try FoDDatabase(path: path) } catch let error as StoreError {
            #expect(error.code == .database && error.reason.contains("open it once with the release of December 2026"), "\(error.reason)")
        }
        let tables = try DatabaseQueue(path: path).read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") }
        #expect(tables == ["audit", "grdb_migrations"], "nothing was changed")
    }

    @Test("one group commit: a replay, a conflict and a reused key in the same transaction are answered each on its own",
          arguments: StoreBackend.all)
    func groupCommit(backend: StoreBackend) async throws {
        let database = try await Self.store(backend)
        let now: Int64 = 1_795_000_000
        let issuer = Issuer(key: try PrivateKey.generate(.es256), issuer: try IssuerID("https://fod.test"), clock: FixedClock(unixSeconds: now))
        let secret = try await database.createAPIKey(role: .dealer, dealer: try DealerID("DE-10001"), label: "d", actor: "test", at: now).secret
        let principal = try #require(try await database.authenticate(secret: secret, at: now))
        func record(_ vin: String, _ feature: String, key: String, hash: String = "h") throws -> ActivationRecord {
            let issued = try issuer.issue(EntitlementRequest(vin: try VIN(vin), feature: try FeatureCode(feature), term: .oneYear, dealer: principal.dealer))
            return ActivationRecord(activation: NewActivation(entitlement: issued, channel: "dealer", market: try Market("DE"), gross: Money(minor: 14_900, try Currency("EUR")), vat: try BasisPoints(1900)),
                                    principal: principal, idempotencyKey: key, requestHash: hash,
                                    response: IdempotentResponse(status: 201, body: Array(issued.claims.id.value.utf8)))
        }
        let first = try record("WAUZZZF45RA000001", "NAV_PLUS", key: "k1")
        let results = try await database.recordActivations([
            first,
            try record("WAUZZZF45RA000001", "NAV_PLUS", key: "k1"),              // the same key again: the first answer
            try record("WAUZZZF45RA000001", "NAV_PLUS", key: "k2"),              // another key, same feature: already active
            try record("WAUZZZF45RA000001", "ACC", key: "k1", hash: "other"),    // the key with another request
            try record("WVWZZZ1KZAW394821", "MATRIX_LED", key: "k3"),
        ], at: now)
        #expect(try results[0].get() == RecordedActivation(response: first.response, created: true))
        #expect(try results[1].get() == RecordedActivation(response: first.response, created: false))
        #expect(throws: StoreError(.conflict, "")) { try results[2].get() }
        #expect(throws: StoreError(.idempotencyMismatch, "")) { try results[3].get() }
        #expect(try results[4].get().created)
        #expect(try await database.activationCount() == 2)
        #expect(try await database.verifyAudit() >= 3)
    }

    @Test("X-Request-Id: the caller's id comes back, on errors too; a missing or unusable one is replaced", arguments: StoreBackend.all)
    func requestID(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        let header = HTTPField.Name("X-Request-Id")!
        try await service.app.test(.router) { client in
            try await client.execute(uri: "/v1/nothing-here", method: .get, headers: [header: "sale-42"]) { response async throws in
                #expect(response.status == .notFound && response.headers[header] == "sale-42")
            }
            try await client.execute(uri: "/healthz", method: .get) { response async throws in
                #expect((response.headers[header]?.count ?? 0) >= 8)
            }
            try await client.execute(uri: "/healthz", method: .get, headers: [header: String(repeating: "x", count: 65)]) { response async throws in
                #expect(response.headers[header] != nil && response.headers[header]?.count != 65)
            }
        }
    }
}
