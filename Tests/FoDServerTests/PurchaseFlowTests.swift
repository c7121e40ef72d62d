import FoDCore
import FoDEntitlements
import FoDServer
import FoDStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Purchases from the shop, app and car, the servicing dealer with effective dates, consent and
/// withdrawal — through the router, on every backend.
@Suite("Purchases, servicing dealers, consent and withdrawal")
struct PurchaseFlowTests {
    static let vin = "WAUZZZF45RA000001"
    static let day: Int64 = 86_400

    static func purchase(order: String, feature: String = "NAV_PLUS", term: String = "P1Y", gross: Int64 = 14_900, currency: String = "EUR",
                         channel: String = "online", vin: String = vin, immediate: Bool = false, acknowledged: String? = nil) -> String {
        let ack = acknowledged.map { #","acknowledged_at":"\#($0)""# } ?? ""
        return #"{"vin":"\#(vin)","feature":"\#(feature)","term":"\#(term)","channel":"\#(channel)","order_id":"\#(order)","gross_minor":\#(gross),"currency":"\#(currency)","consent":{"terms_version":"2026-11","immediate_start":\#(immediate)\#(ack)}}"#
    }

    /// The events export as rows of named columns.
    static func events(_ client: some TestClientProtocol, _ service: TestService) async throws -> [[String: String]] {
        try await client.execute(uri: "/v1/exports/events", method: .get, headers: headers(service.auditor)) { response async throws in
            #expect(response.status == .ok)
            let lines = String(buffer: response.body).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
            guard let header = lines.first else { return [] }
            return lines.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
        }
    }

    @Test("a purchase is credited to the servicing dealer of its moment; a replay of the order answers the first; another body under the order id is refused",
          arguments: StoreBackend.all)
    func purchasesAndAttribution(backend: StoreBackend) async throws {
        let clock = SettableClock(TestService.now)
        let service = try await TestService(backend, clock: clock)
        try await service.app.test(.router) { client in
            var first = ""
            try await client.execute(uri: "/v1/purchases", method: .post, headers: headers(service.issuer), body: body(Self.purchase(order: "SHOP-1"))) { response async throws in
                #expect(response.status == .created)
                first = String(buffer: response.body)
                let answer = try json(response)
                #expect(answer["dealer"] as? String == "DE-10001", "the vehicle's registration names DE-10001")
                #expect(answer["channel"] as? String == "online")
                #expect(answer["order_id"] as? String == "SHOP-1")
                #expect(response.headers[.location]?.hasPrefix("/v1/entitlements/") == true)
            }
            // The same order again — from the same shop, spelled differently — is the first answer.
            let respelled = Self.purchase(order: "SHOP-1").replacingOccurrences(of: ",", with: " ,")
            try await client.execute(uri: "/v1/purchases", method: .post, headers: headers(service.issuer), body: body(respelled)) { response async throws in
                #expect(response.status == .created)
                #expect(response.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
                #expect(String(buffer: response.body) == first)
            }
            try await client.execute(uri: "/v1/purchases", method: .post, headers: headers(service.issuer),
                                     body: body(Self.purchase(order: "SHOP-1", feature: "MATRIX_LED", term: "P1M", gross: 1_900))) { response async throws in
                #expect(response.status == .unprocessableContent)
                #expect(try json(response)["code"] as? String == "order_id_reused")
            }
            // A dealer cannot book as the shop.
            try await client.execute(uri: "/v1/purchases", method: .post, headers: headers(service.dealer1), body: body(Self.purchase(order: "SHOP-X"))) { response async throws in
                #expect(response.status == .forbidden)
            }
            // The price must be the catalog's for the vehicle's market, in its currency.
            for (gross, currency) in [(Int64(14_800), "EUR"), (14_900, "USD")] {
                try await client.execute(uri: "/v1/purchases", method: .post, headers: headers(service.issuer),
                                         body: body(Self.purchase(order: "SHOP-P\(gross)\(currency)", feature: "MATRIX_LED", term: "P1Y", gross: gross, currency: currency))) { response async throws in
                    #expect(response.status == .unprocessableContent)
                    #expect(try json(response)["code"] as? String == "price_mismatch")
                }
            }
            try await client.execute(uri: "/v1/purchases", method: .post, headers: headers(service.issuer),
                                     body: body(Self.purchase(order: "SHOP-U", vin: "WBA12345678901234"))) { response async throws in
                #expect(response.status == .notFound)
                #expect(try json(response)["code"] as? String == "vehicle_not_found")
            }
            for bad in [Self.purchase(order: "SHOP-C", channel: "dealer"), Self.purchase(order: "bad order"),
                        Self.purchase(order: "SHOP-A", acknowledged: "2026-11-20T10:00:00Z"),
                        #"{"vin":"\#(Self.vin)","feature":"ACC","term":"P1M","channel":"online","order_id":"SHOP-N","gross_minor":100,"currency":"EUR"}"#,
                        Self.purchase(order: "SHOP-M").replacingOccurrences(of: #""immediate_start""#, with: #""extra":1,"immediate_start""#)] {
                try await client.execute(uri: "/v1/purchases", method: .post, headers: headers(service.issuer), body: body(bad)) { response async throws in
                    #expect(response.status == .unprocessableContent, "\(bad)")
                }
            }

            // The dealer changes tomorrow: today's sales stay DE-10001's, the next ones are DE-10002's.
            let tomorrow = Instant(unixSeconds: TestService.now + Self.day).rfc3339
            try await client.execute(uri: "/v1/vehicles/\(Self.vin)/dealer", method: .put, headers: headers(service.dealer1),
                                     body: body(#"{"dealer_id":"DE-10002"}"#)) { response async throws in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/v1/vehicles/\(Self.vin)/dealer", method: .put, headers: headers(service.issuer),
                                     body: body(#"{"dealer_id":"DE-99999"}"#)) { response async throws in
                #expect(try json(response)["code"] as? String == "dealer_unknown")
            }
            try await client.execute(uri: "/v1/vehicles/WBA12345678901234/dealer", method: .put, headers: headers(service.issuer),
                                     body: body(#"{"dealer_id":"DE-10002"}"#)) { response async throws in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/v1/vehicles/\(Self.vin)/dealer", method: .put, headers: headers(service.issuer),
                                     body: body(#"{"dealer_id":"DE-10002","from":"\#(tomorrow)"}"#)) { response async throws in
                #expect(response.status == .ok)
                let answer = try json(response)
                #expect(answer["servicing_dealer"] as? String == "DE-10001", "not in force yet")
                #expect((answer["assignments"] as? [[String: Any]])?.first?["from"] as? String == tomorrow)
            }
            try await client.execute(uri: "/v1/purchases", method: .post, headers: headers(service.issuer),
                                     body: body(Self.purchase(order: "SHOP-2", feature: "ACC", term: "P1M", gross: 2_499, channel: "vehicle"))) { response async throws in
                #expect(response.status == .created)
                #expect(try json(response)["dealer"] as? String == "DE-10001")
            }
            clock.set(TestService.now + Self.day)
            try await client.execute(uri: "/v1/vehicles/\(Self.vin)", method: .get, headers: headers(service.dealer1)) { response async throws in
                #expect(try json(response)["servicing_dealer"] as? String == "DE-10002")
            }
            try await client.execute(uri: "/v1/purchases", method: .post, headers: headers(service.issuer),
                                     body: body(Self.purchase(order: "SHOP-3", feature: "MATRIX_LED", term: "P1M", gross: 1_900, channel: "vehicle"))) { response async throws in
                #expect(response.status == .created)
                #expect(try json(response)["dealer"] as? String == "DE-10002")
            }
            let rows = try await Self.events(client, service).filter { $0["kind"] == "activation" }
            #expect(rows.map { "\($0["feature"] ?? "") \($0["channel"] ?? "") \($0["dealer_id"] ?? "")" }.sorted()
                    == ["ACC vehicle DE-10001", "MATRIX_LED vehicle DE-10002", "NAV_PLUS online DE-10001"])
            // The consent is in the audit log with the sale.
            try await client.execute(uri: "/v1/audit", method: .get, headers: headers(service.auditor)) { response async throws in
                let text = String(buffer: response.body)
                #expect(text.contains("channel=online"))
                #expect(text.contains("consent=terms:2026-11 immediate_start:false"))
                #expect(text.contains("vehicle.dealer"))
            }
        }
    }

    @Test("withdrawal: within the period refunded and revoked, once; on the 15th day, after a waived early start, and for another dealer refused",
          arguments: StoreBackend.all)
    func withdrawal(backend: StoreBackend) async throws {
        let clock = SettableClock(TestService.now)
        let service = try await TestService(backend, clock: clock)
        try await service.app.test(.router) { client in
            func activate(_ feature: String, _ consent: String? = nil) async throws -> (id: String, token: String) {
                let order = #"{"vin":"\#(Self.vin)","feature":"\#(feature)","term":"P1M"\#(consent.map { #","consent":\#($0)"# } ?? "")}"#
                return try await client.execute(uri: "/v1/activations", method: .post, headers: headers(service.dealer1, idempotency: "k-\(feature)"), body: body(order)) { response async throws in
                    #expect(response.status == .created)
                    let answer = try json(response)
                    return (answer["id"] as? String ?? "", answer["token"] as? String ?? "")
                }
            }
            func withdraw(_ id: String, _ key: String, status: HTTPResponse.Status, code: String? = nil) async throws {
                try await client.execute(uri: "/v1/entitlements/\(id)/withdraw", method: .post, headers: headers(key), body: body("{}")) { response async throws in
                    #expect(response.status == status, "\(String(buffer: response.body))")
                    if let code { #expect(try json(response)["code"] as? String == code) }
                }
            }
            // A counter sale without a consent record: given in person, the right stands.
            let nav = try await activate("NAV_PLUS")
            // An early start asked for, but not acknowledged: the right stands too.
            let acc = try await activate("ACC", #"{"terms_version":"2026-11","immediate_start":true}"#)
            // Asked for and acknowledged: it lapses with the delivery (at once).
            let led = try await activate("MATRIX_LED", #"{"terms_version":"2026-11","immediate_start":true,"acknowledged_at":"2026-11-18T11:00:00Z"}"#)

            clock.set(TestService.now + 13 * Self.day)
            try await withdraw(nav.id, service.dealer2, status: .notFound, code: "entitlement_not_found")
            try await withdraw(nav.id, service.auditor, status: .forbidden)
            try await withdraw(nav.id, service.dealer1, status: .ok)
            try await withdraw(nav.id, service.issuer, status: .conflict, code: "already_refunded")
            try await withdraw(led.id, service.issuer, status: .unprocessableContent, code: "withdrawal_right_lapsed")
            try await client.execute(uri: "/v1/verify", method: .post, headers: headers(service.issuer), body: body(#"{"token":"\#(nav.token)"}"#)) { response async throws in
                #expect(try json(response)["code"] as? String == "revoked")
            }
            // An entitlement issued directly was not sold.
            let direct = try await client.execute(uri: "/v1/entitlements", method: .post, headers: headers(service.issuer),
                                                  body: body(#"{"vin":"\#(Self.vin)","feature":"MORE_POWER","term":"P1M"}"#)) { response async throws in
                try json(response)["id"] as? String ?? ""
            }
            try await withdraw(direct, service.issuer, status: .unprocessableContent, code: "not_a_sale")

            // The sale's day plus 14 is the last day; the 15th day after it is too late.
            let saleDay = TestService.now / Self.day * Self.day
            clock.set(saleDay + 15 * Self.day - 1)
            try await client.execute(uri: "/v1/entitlements/\(acc.id)/withdraw", method: .post, headers: headers(service.issuer),
                                     body: body(#"{"note":"customer called"}"#)) { response async throws in
                #expect(response.status == .ok)
                #expect(try json(response)["period_ends"] as? String == Instant(unixSeconds: saleDay + 15 * Self.day).rfc3339)
            }
            let late = try await client.execute(uri: "/v1/purchases", method: .post, headers: headers(service.issuer),
                                                body: body(Self.purchase(order: "LATE", feature: "NAV_PLUS", term: "P1M", gross: 1_490))) { response async throws in
                #expect(response.status == .created)
                return try json(response)["id"] as? String ?? ""
            }
            clock.set(saleDay + 15 * Self.day)
            try await withdraw(late, service.issuer, status: .ok)
            try await withdraw(led.id, service.issuer, status: .unprocessableContent, code: "withdrawal_period_over")

            let refunds = try await Self.events(client, service).filter { $0["kind"] == "refund" }
            #expect(Set(refunds.compactMap { $0["refers_to"] }) == Set([nav.id, acc.id, late].map { "act-\($0)" }))
            try await client.execute(uri: "/v1/entitlements/\(nav.id)", method: .get, headers: headers(service.issuer)) { response async throws in
                #expect(try json(response)["active"] as? Bool == false)
            }
            try await client.execute(uri: "/v1/audit", method: .get, headers: headers(service.auditor)) { response async throws in
                let text = String(buffer: response.body)
                #expect(text.contains("activation.withdraw"))
                #expect(text.contains("note=customer called"))
                #expect(text.contains("reason=withdrawal"))
            }
        }
    }

    @Test("free trials per vehicle and feature are configurable: two, then refused with the reason; none at all", arguments: [2, 0])
    func trials(limit: Int) async throws {
        let service = try await TestService(trialsPerFeature: limit)
        try await service.app.test(.router) { client in
            for round in 1...3 {
                let (status, answer) = try await client.execute(uri: "/v1/activations", method: .post, headers: headers(service.dealer1, idempotency: "trial-\(round)"),
                                                                body: body(#"{"vin":"\#(Self.vin)","feature":"NAV_PLUS","term":"trial"}"#)) { response async throws in
                    (response.status, try json(response))
                }
                if round <= limit {
                    #expect(status == .created)
                    let id = try #require(answer["id"] as? String)
                    try await service.services.store.revoke(entitlement: try EntitlementID(id), reason: "ended early", actor: "test", at: TestService.now)
                } else {
                    #expect(status == .unprocessableContent && answer["code"] as? String == "trial_used")
                    #expect((answer["detail"] as? String)?.contains(limit == 0 ? "not offered" : "All 2 free trials") == true, "\(answer)")
                }
            }
        }
    }

    @Test("withdrawal days per market: MARKET=DAYS, *=DAYS; bad entries refused")
    func withdrawalPolicy() throws {
        let policy = try WithdrawalPolicy.parse(["DE=30", "*=21"])
        let de = try Market("DE"), fr = try Market("FR")
        #expect(policy.days(for: de) == 30 && policy.days(for: fr) == 21)
        // 1 December 2026 10:00 UTC: the period ends with 15 December.
        let sale = try Instant(rfc3339: "2026-12-01T10:00:00Z").unixSeconds
        #expect(WithdrawalPolicy().end(soldAt: sale, market: de) == (try Instant(rfc3339: "2026-12-16T00:00:00Z").unixSeconds))
        for bad in ["DE", "DE=-1", "DE=366", "de=14", "DE=x"] {
            #expect(throws: (any Error).self, "\(bad)") { try WithdrawalPolicy.parse([bad]) }
        }
    }
}
