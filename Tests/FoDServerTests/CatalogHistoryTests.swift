import FoDAPI
import FoDCore
import FoDEntitlements
import FoDServer
import FoDStore
import FoDTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// The catalog over time through the API: scheduled versions, campaigns, retirements.
@Suite("Catalog versions, campaigns and retirements")
struct CatalogHistoryTests {
    /// The fixture catalog as a version request: `label`, NAV_PLUS's DE P1Y at `navYear`, effective at `at`.
    static func version(_ label: String, navYear: Int = 15_900, at: Int64?, drop: String? = nil) throws -> String {
        var document = try JSONSerialization.jsonObject(with: Data(contentsOf: TestPaths.file("fixtures/catalog.json"))) as? [String: Any] ?? [:]
        document["version"] = label
        var features = document["features"] as? [[String: Any]] ?? []
        features.removeAll { $0["code"] as? String == drop }
        for index in features.indices where features[index]["code"] as? String == "NAV_PLUS" {
            var prices = features[index]["prices"] as? [[String: Any]] ?? []
            for p in prices.indices where prices[p]["market"] as? String == "DE" {
                var terms = prices[p]["terms"] as? [String: Any] ?? [:]
                terms["P1Y"] = navYear
                prices[p]["terms"] = terms
            }
            features[index]["prices"] = prices
        }
        document["features"] = features
        if let at { document["effective_at"] = Instant(unixSeconds: at).rfc3339 }
        return String(decoding: try JSONSerialization.data(withJSONObject: document), as: UTF8.self)
    }

    static func offerPrice(_ client: some TestClientProtocol, _ key: String, at: Int64? = nil, feature: String = "NAV_PLUS",
                           term: String = "P1Y", vin: String = "WAUZZZF45RA000001") async throws -> (gross: Int?, campaign: String?, rule: String?) {
        let query = at.map { "?at=\(Instant(unixSeconds: $0).rfc3339)" } ?? ""
        let offers = try await client.execute(uri: "/v1/vehicles/\(vin)/offers\(query)", method: .get, headers: headers(key)) { response async throws in
            #expect(response.status == .ok, "\(String(buffer: response.body))")
            return try json(response)["offers"] as? [[String: Any]] ?? []
        }
        let offer = offers.first { $0["feature"] as? String == feature }
        let price = (offer?["prices"] as? [[String: Any]])?.first { $0["term"] as? String == term }
        return (price?["gross_minor"] as? Int, price?["campaign"] as? String, (offer?["refusal"] as? [String: Any])?["rule"] as? String)
    }

    @Test("a price change scheduled ahead: offers before it show the old price, ?at= after it the new one; a sale now keeps the old price and names its version",
          arguments: StoreBackend.all)
    func scheduledPriceChange(backend: StoreBackend) async throws {
        let clock = SettableClock(TestService.now)
        let service = try await TestService(backend, clock: clock)
        let product = try await service.services.store.createAPIKey(role: .product, dealer: nil, label: "pm", actor: "test", at: TestService.now).secret
        let from = TestService.now + 86_400
        try await service.app.test(.router) { client in
            _ = try await NetworkTests.send(client, product, .post, "/v1/catalog/versions", try Self.version("2026.12", at: from), status: .created)
            #expect(try await Self.offerPrice(client, service.dealer1).gross == 14_900)
            #expect(try await Self.offerPrice(client, service.dealer1, at: from).gross == 15_900)
            let catalog = try await client.execute(uri: "/v1/catalog?at=\(Instant(unixSeconds: from).rfc3339)", method: .get, headers: headers(service.auditor)) { try json($0) }
            #expect(catalog["version"] as? String == "2026.12")
            let sold = try await NetworkTests.sell(client, service.dealer1, vin: "WAUZZZF45RA000001", feature: "NAV_PLUS", order: "s1")
            let id = sold["id"] as? String ?? ""
            clock.set(from + 60)
            try await Task.sleep(for: .milliseconds(1_100))  // another instance's view: the book is read again after a second
            #expect(try await Self.offerPrice(client, service.dealer2, vin: "WAUZZZFY7P2000002").gross == 15_900, "in force now")
            #expect(id.count > 0)
            // Refused: a version effective in the past, one at or before the last, a label taken, one that drops a feature.
            _ = try await NetworkTests.send(client, product, .post, "/v1/catalog/versions", try Self.version("2027.01", at: from - 3_600),
                                            status: .unprocessableContent, code: "effective_at_invalid")
            _ = try await NetworkTests.send(client, product, .post, "/v1/catalog/versions", try Self.version("2026.12", at: from + 86_400),
                                            status: .conflict, code: "conflict")
            _ = try await NetworkTests.send(client, product, .post, "/v1/catalog/versions", try Self.version("2027.02", at: from + 86_400, drop: "ACC"),
                                            status: .unprocessableContent, code: "feature_dropped")
            _ = try await NetworkTests.send(client, service.dealer1, .post, "/v1/catalog/versions", try Self.version("2027.03", at: nil), status: .forbidden)
            let events = try await client.execute(uri: "/v1/events?limit=1000", method: .get, headers: headers(service.auditor)) { String(buffer: $0.body) }
            #expect(events.contains("catalog.versioned") && events.contains("2026.12"))
        }
        // The sale records the version it was priced by.
        let store = try #require(service.database.store as? any SQLStore)
        let versions = try await store.fetch("test", sql: "SELECT catalog_version, gross_minor FROM event WHERE kind = 'activation'", arguments: [])
        #expect(versions.map { $0["catalog_version"] as String? } == ["2026.11"])
        #expect(versions.map { $0["gross_minor"] as Int64 } == [14_900], "the sale keeps its price")
    }

    @Test("a campaign prices a feature inside its window and not outside; overlapping windows are refused; a purchase inside records it",
          arguments: StoreBackend.all)
    func campaign(backend: StoreBackend) async throws {
        let clock = SettableClock(TestService.now)
        let service = try await TestService(backend, clock: clock)
        let product = try await service.services.store.createAPIKey(role: .product, dealer: nil, label: "pm", actor: "test", at: TestService.now).secret
        let from = TestService.now + 3_600, to = from + 7 * 86_400
        @Sendable func campaign(_ id: String, _ from: Int64, _ to: Int64, gross: Int = 100) -> String {
            #"{"id":"\#(id)","feature":"NAV_PLUS","market":"DE","term":"P1M","gross_minor":\#(gross),"from":"\#(Instant(unixSeconds: from).rfc3339)","to":"\#(Instant(unixSeconds: to).rfc3339)"}"#
        }
        try await service.app.test(.router) { client in
            _ = try await NetworkTests.send(client, product, .post, "/v1/campaigns", campaign("NAV-1EUR", from, to), status: .created)
            #expect(try await Self.offerPrice(client, service.dealer1, term: "P1M").gross == 1_490)
            let inside = try await Self.offerPrice(client, service.dealer1, at: from + 60, term: "P1M")
            #expect(inside.gross == 100 && inside.campaign == "NAV-1EUR")
            #expect(try await Self.offerPrice(client, service.dealer1, at: to, term: "P1M").gross == 1_490, "the window ends before `to`")
            _ = try await NetworkTests.send(client, product, .post, "/v1/campaigns", campaign("NAV-2", to - 60, to + 86_400),
                                            status: .conflict, code: "campaign_overlap")
            _ = try await NetworkTests.send(client, product, .post, "/v1/campaigns", campaign("NAV-3", to, to - 60),
                                            status: .unprocessableContent, code: "effective_at_invalid")
            _ = try await NetworkTests.send(client, product, .post, "/v1/campaigns", campaign("NAV-4", to + 10, to + 20, gross: 99_999),
                                            status: .unprocessableContent, code: "invalid")
            _ = try await NetworkTests.send(client, product, .post, "/v1/campaigns", campaign("NAV-1EUR", to + 100, to + 200),
                                            status: .conflict, code: "conflict")

            clock.set(from + 60)
            let acknowledged = Instant(unixSeconds: from).rfc3339
            let purchase = #"{"vin":"WAUZZZF45RA000001","feature":"NAV_PLUS","term":"P1M","channel":"online","order_id":"camp-1","gross_minor":100,"currency":"EUR","consent":{"terms_version":"2026-11","immediate_start":true,"acknowledged_at":"\#(acknowledged)"}}"#
            _ = try await NetworkTests.send(client, service.issuer, .post, "/v1/purchases", purchase, status: .created)
        }
        let store = try #require(service.database.store as? any SQLStore)
        let rows = try await store.fetch("test", sql: "SELECT campaign_id, gross_minor FROM event WHERE kind = 'activation'", arguments: [])
        #expect(rows.map { $0["campaign_id"] as String? } == ["NAV-1EUR"] && rows.map { $0["gross_minor"] as Int64 } == [100])
    }

    @Test("a retired feature cannot be sold from its date, stays in its vehicle's manifest and verifies; retiring it twice is refused",
          arguments: StoreBackend.all)
    func retirement(backend: StoreBackend) async throws {
        let clock = SettableClock(TestService.now)
        let service = try await TestService(backend, clock: clock)
        let product = try await service.services.store.createAPIKey(role: .product, dealer: nil, label: "pm", actor: "test", at: TestService.now).secret
        let at = TestService.now + 600
        try await service.app.test(.router) { client in
            let sold = try await NetworkTests.sell(client, service.dealer1, vin: "WAUZZZF45RA000001", feature: "MATRIX_LED", order: "m1")
            let token = sold["token"] as? String ?? ""
            let retired = try await NetworkTests.send(client, product, .post, "/v1/features/MATRIX_LED/retire",
                                                      #"{"effective_at":"\#(Instant(unixSeconds: at).rfc3339)"}"#, status: .ok)
            #expect(retired["effective_at"] as? String == Instant(unixSeconds: at).rfc3339)
            _ = try await NetworkTests.send(client, product, .post, "/v1/features/MATRIX_LED/retire", "{}", status: .conflict, code: "feature_retired")
            _ = try await NetworkTests.send(client, product, .post, "/v1/features/NOPE/retire", "{}", status: .notFound, code: "feature_unknown")
            clock.set(at + 1)
            #expect(try await Self.offerPrice(client, service.dealer2, feature: "MATRIX_LED").rule == "feature_retired")
            try await client.execute(uri: "/v1/activations", method: .post, headers: headers(service.dealer2, idempotency: "m2"),
                                     body: body(#"{"vin":"WVWZZZ1KZAW394821","feature":"MATRIX_LED","term":"P1Y"}"#)) { response async throws in
                #expect(response.status == .unprocessableContent)
                let answer = try json(response)
                #expect(answer["code"] as? String == "feature_retired" || answer["rule"] as? String == "feature_retired", "\(answer)")
            }
            let manifest = try await client.execute(uri: "/v1/vehicles/WAUZZZF45RA000001/manifest", method: .get, headers: headers(service.issuer)) { String(buffer: $0.body) }
            #expect(manifest.count > 0)
            let claims = try await service.services.verifyEntitlement(token)
            #expect(claims.feature.value == "MATRIX_LED")
            let snapshot = try #require(try await service.services.store.manifestSnapshot(of: try VIN("WAUZZZF45RA000001")))
            #expect("\(snapshot)".contains("MATRIX_LED"), "still in the manifest")
        }
    }
}
