import FoDCore
import FoDEntitlements
import FoDServer
import FoDStore
import FoDTestSupport
import Foundation
import Synchronization
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// A vehicle's year, from its online purchase to its change of owner, through the router and the
/// renewal job, then the events export through `fod report` month by month against statements
/// computed by hand (fixtures/revenue/rules.json: online 5 %, point of sale 10 %, no tier reached).
@Suite("A year of sales, end to end")
struct YearOfSalesTests {
    static let vin = "WAUZZZF45RA000001"

    static func at(_ text: String) throws -> Int64 { try Instant(rfc3339: text).unixSeconds }

    @Test("online in January (dealer A), dealer B from March, monthly renewals, cancelled in June, a withdrawal, a transfer: each month's statement to the cent; each manifest holds what is live",
          arguments: StoreBackend.all)
    func year(backend: StoreBackend) async throws {
        let clock = SettableClock(try Self.at("2027-01-10T10:00:00Z"))
        let service = try await TestService(backend, clock: clock)
        let renewals = RenewalService(services: service.services)
        let lastVersion = Mutex<Int64?>(nil)
        try await service.app.test(.router) { client in
            func post(_ uri: String, _ key: String, _ body: String, idempotency: String? = nil) async throws -> [String: Any] {
                try await client.execute(uri: uri, method: .post, headers: headers(key, idempotency: idempotency), body: ByteBuffer(string: body)) { response async throws in
                    #expect(response.status.code < 300, "\(uri): \(String(buffer: response.body))")
                    return try json(response)
                }
            }
            /// The manifest verifies, its version only goes up, and it lists exactly `features`.
            func manifest(_ features: [String], _ step: String) async throws {
                let token = try await client.execute(uri: "/v1/vehicles/\(Self.vin)/manifest", method: .get, headers: headers(service.issuer)) { response async throws in
                    try json(response)["manifest"] as? String ?? ""
                }
                let claims = try service.services.verifier.verifyManifest(token, vin: try VIN(Self.vin), lastAcceptedVersion: lastVersion.withLock { $0 })
                lastVersion.withLock { $0 = claims.version }
                #expect(claims.entitlements.map { $0.feature.value }.sorted() == features.sorted(), "\(step)")
            }
            func renew(_ when: String, expect count: Int) async throws {
                clock.set(try Self.at(when))
                #expect(try await renewals.run(lead: 3 * 86_400).renewed == count, "renewal run of \(when)")
            }
            let purchase = PurchaseFlowTests.purchase(order: "Y-1", feature: "ACC", term: "subscription", gross: 2_499)
            let first = try await post("/v1/purchases", service.issuer, purchase)
            #expect(first["dealer"] as? String == "DE-10001")
            try await manifest(["ACC"], "January: bought online")

            try await renew("2027-02-08T10:00:00Z", expect: 1)
            try await manifest(["ACC", "ACC"], "February: the next month booked")
            clock.set(try Self.at("2027-02-11T10:00:00Z"))
            try await manifest(["ACC"], "February: the first month over")

            clock.set(try Self.at("2027-02-20T10:00:00Z"))
            _ = try await client.execute(uri: "/v1/vehicles/\(Self.vin)/dealer", method: .put, headers: headers(service.issuer),
                                         body: ByteBuffer(string: #"{"dealer_id":"DE-10002","from":"2027-03-01T00:00:00Z"}"#)) { response async throws in
                #expect(response.status == .ok)
            }
            try await renew("2027-03-08T10:00:00Z", expect: 1)
            try await renew("2027-04-08T10:00:00Z", expect: 1)
            try await renew("2027-05-08T10:00:00Z", expect: 1)
            clock.set(try Self.at("2027-06-01T10:00:00Z"))
            _ = try await post("/v1/entitlements/\(try #require(first["id"] as? String))/cancel", service.issuer, "{}")
            try await renew("2027-06-08T10:00:00Z", expect: 0)
            try await manifest(["ACC"], "June: the last month runs")
            clock.set(try Self.at("2027-06-11T10:00:00Z"))
            try await manifest([], "June: the subscription ended")

            clock.set(try Self.at("2027-07-01T10:00:00Z"))
            let nav = try await post("/v1/purchases", service.issuer, PurchaseFlowTests.purchase(order: "Y-2", feature: "NAV_PLUS", term: "P1Y", gross: 14_900))
            try await manifest(["NAV_PLUS"], "July: Navigation Plus bought")
            clock.set(try Self.at("2027-07-05T10:00:00Z"))
            _ = try await post("/v1/entitlements/\(try #require(nav["id"] as? String))/withdraw", service.issuer, "{}")
            try await manifest([], "July: withdrawn")

            clock.set(try Self.at("2027-09-01T10:00:00Z"))
            _ = try await post("/v1/activations", service.dealer2, #"{"vin":"\#(Self.vin)","feature":"MORE_POWER","term":"P1M"}"#, idempotency: "y-3")
            try await manifest(["MORE_POWER"], "September: more power at the counter")
            clock.set(try Self.at("2027-09-15T10:00:00Z"))
            _ = try await post("/v1/vehicles/\(Self.vin)/transfer", service.issuer, "{}")
            try await manifest([], "September: sold; more power does not stay with the car")

            // The events export, through fod report, month by month.
            let csv = try await client.execute(uri: "/v1/exports/events", method: .get, headers: headers(service.auditor)) { response async throws in
                String(buffer: response.body)
            }
            let folder = try TestPaths.temporaryDirectory()
            let events = folder.appendingPathComponent("events.csv")
            try csv.write(to: events, atomically: true, encoding: .utf8)
            // dealer → activations, clawbacks, share, clawback, payable
            let expected: [String: [String: String]] = [
                "2027-01": ["DE-10001": "1 0 1.05 0.00 1.05"],
                "2027-02": ["DE-10001": "1 0 1.05 0.00 1.05"],
                "2027-03": ["DE-10002": "1 0 1.05 0.00 1.05"],
                "2027-04": ["DE-10002": "1 0 1.05 0.00 1.05"],
                "2027-05": ["DE-10002": "1 0 1.05 0.00 1.05"],
                "2027-06": [:],
                // 149.00 gross, net 125.21, 5 % = 6.26; withdrawn within the clawback window.
                "2027-07": ["DE-10002": "1 1 6.26 6.26 0.00"],
                "2027-08": [:],
                // 49.00 gross, net 41.18, 10 % = 4.12.
                "2027-09": ["DE-10002": "1 0 4.12 0.00 4.12"],
            ]
            for (period, statements) in expected.sorted(by: { $0.key < $1.key }) {
                let out = folder.appendingPathComponent(period)
                let run = try ProcessRunner.run(TestPaths.fodBinary.path, ["report", "--events", events.path, "--rules", TestPaths.file("fixtures/revenue/rules.json").path,
                                                                          "--period", period, "--out", out.path])
                #expect(run.status == 0, "\(period): \(run.stderr)")
                let lines = try String(contentsOf: out.appendingPathComponent("statements.csv"), encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
                let header = try #require(lines.first)
                var found: [String: String] = [:]
                for row in lines.dropFirst() {
                    let value = Dictionary(uniqueKeysWithValues: zip(header, row))
                    found[value["dealer_id"] ?? ""] = ["activations", "clawbacks", "share", "clawback", "payable"].map { value[$0] ?? "?" }.joined(separator: " ")
                }
                #expect(found == statements, "\(period)")
            }
        }
    }
}
