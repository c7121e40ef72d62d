import FoDAPI
import FoDCore
import FoDEntitlements
import FoDRevenue
@testable import FoDServer
import FoDStore
import FoDTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Quotes through the API (docs/journeys.md): made at one touchpoint, opened and accepted at another.
@Suite("Quotes: journeys across touchpoints")
struct QuoteTests {
    static let vin = "WAUZZZF45RA000001"
    static let consent = #"{"terms_version":"2026-11","immediate_start":false}"#

    static func quoteBody(items: [(String, String)] = [("NAV_PLUS", "P1Y"), ("MATRIX_LED", "P1Y")], channel: String = "app",
                          preferred: String? = nil, expiresAt: Int64? = nil, vin: String = vin) -> String {
        let list = items.map { #"{"feature":"\#($0.0)","term":"\#($0.1)"}"# }.joined(separator: ",")
        var text = #"{"vin":"\#(vin)","items":[\#(list)],"channel":"\#(channel)""#
        if let preferred { text += #","preferred_dealer":"\#(preferred)""# }
        if let expiresAt { text += #","expires_at":"\#(Instant(unixSeconds: expiresAt).rfc3339)""# }
        return text + "}"
    }

    /// `POST /v1/quotes/{id}/accept` with an idempotency key; the status and the answer.
    static func accept(_ client: some TestClientProtocol, _ key: String, _ id: String, idempotency: String, body text: String = "{}")
        async throws -> (status: HTTPResponse.Status, body: [String: Any], replayed: Bool) {
        try await client.execute(uri: "/v1/quotes/\(id)/accept", method: .post, headers: headers(key, idempotency: idempotency), body: body(text)) { response in
            (response.status, try json(response), response.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
        }
    }

    @Test("the app makes a quote of two items with a preferred site; another site opens it by code and accepts at its counter: both booked, credited by the rule, the manifest holds both; never twice",
          arguments: StoreBackend.all)
    func journey(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await service.app.test(.router) { client in
            let quote = try await NetworkTests.send(client, service.issuer, .post, "/v1/quotes", Self.quoteBody(preferred: "DE-10003"), status: .created)
            let id = try #require(quote["id"] as? String), code = try #require(quote["code"] as? String)
            #expect(quote["status"] as? String == "open" && quote["preferred_dealer"] as? String == "DE-10003")
            #expect(code.range(of: "^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$", options: .regularExpression) != nil, "\(code)")
            #expect(!code.contains(where: { "01IOLU".contains($0) }))
            let items = quote["items"] as? [[String: Any]] ?? []
            #expect(items.map { $0["feature"] as? String } == ["NAV_PLUS", "MATRIX_LED"])
            #expect(((items.first?["price"] as? [String: Any])?["gross_minor"] as? Int) == 14_900)
            #expect(quote["total_minor"] as? Int == items.compactMap { ($0["price"] as? [String: Any])?["gross_minor"] as? Int }.reduce(0, +))
            #expect((quote["dealer_page"] as? String)?.hasSuffix("/dealer/quotes?code=\(code)") == true)

            // Another site sees it only with the code; the open quotes of the vehicle list it for the OEM.
            _ = try await NetworkTests.send(client, service.dealer2, .get, "/v1/quotes/\(id)", "", status: .notFound, code: "quote_not_found")
            let opened = try await NetworkTests.send(client, service.dealer2, .get, "/v1/quotes/by-code/\(code.lowercased().replacingOccurrences(of: "-", with: ""))", "", status: .ok)
            #expect(opened["id"] as? String == id)
            let open = try await NetworkTests.send(client, service.issuer, .get, "/v1/vehicles/\(Self.vin)/quotes", "", status: .ok)
            #expect((open["quotes"] as? [[String: Any]])?.map { $0["id"] as? String } == [id])
            let qr = try await client.execute(uri: "/v1/quotes/\(id)/qr", method: .get, headers: headers(service.issuer)) { ($0.status, String(buffer: $0.body)) }
            #expect(qr.0 == .ok && qr.1.hasPrefix("<svg"))

            // Without the code, another site cannot accept it.
            let blind = try await Self.accept(client, service.dealer2, id, idempotency: "acc-0")
            #expect(blind.status == .notFound)
            let accepted = try await Self.accept(client, service.dealer2, id, idempotency: "acc-1", body: #"{"code":"\#(code)"}"#)
            #expect(accepted.status == .ok, "\(accepted.body)")
            let bookings = accepted.body["bookings"] as? [[String: Any]] ?? []
            #expect(bookings.count == 2)
            #expect(bookings.allSatisfy { $0["dealer"] as? String == "DE-10002" && $0["attribution"] as? String == "counter" && ($0["token"] as? String) != nil })
            #expect(accepted.body["status"] as? String == "accepted" && accepted.body["credited_dealer"] as? String == "DE-10002"
                    && accepted.body["attribution"] as? String == "counter" && accepted.body["id"] as? String == id)

            // The same acceptance again answers the first answer; another acceptance is refused.
            let replay = try await Self.accept(client, service.dealer2, id, idempotency: "acc-1", body: #"{"code":"\#(code)"}"#)
            #expect(replay.replayed && (replay.body["bookings"] as? [[String: Any]])?.map { $0["id"] as? String } == bookings.map { $0["id"] as? String })
            let again = try await Self.accept(client, service.dealer2, id, idempotency: "acc-2", body: #"{"code":"\#(code)"}"#)
            #expect(again.status == .conflict && again.body["code"] as? String == "quote_accepted")
            let fromApp = try await Self.accept(client, service.issuer, id, idempotency: "app-1", body: #"{"consent":\#(Self.consent)}"#)
            #expect(fromApp.body["code"] as? String == "quote_accepted")

            // Both entitlements exist and the manifest holds both.
            let entitlements = try await NetworkTests.send(client, service.issuer, .get, "/v1/vehicles/\(Self.vin)/entitlements", "", status: .ok)
            let ids = Set((entitlements["entitlements"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String })
            #expect(Set(bookings.compactMap { $0["id"] as? String }).isSubset(of: ids))
            let manifest = try await client.execute(uri: "/v1/vehicles/\(Self.vin)/manifest", method: .get, headers: headers(service.issuer)) { response in
                String(buffer: response.body)
            }
            let token = try #require((try JSONSerialization.jsonObject(with: Data(manifest.utf8)) as? [String: Any])?["manifest"] as? String)
            let claims = try service.services.verifier.verifyManifest(token, vin: try VIN(Self.vin), lastAcceptedVersion: nil)
            #expect(Set(bookings.compactMap { $0["id"] as? String }).isSubset(of: Set(claims.entitlements.map(\.id.value))))

            let read = try await NetworkTests.send(client, service.issuer, .get, "/v1/quotes/\(id)", "", status: .ok)
            #expect(read["status"] as? String == "accepted" && read["credited_dealer"] as? String == "DE-10002" && read["attribution"] as? String == "counter")
            #expect((read["bookings"] as? [[String: Any]])?.count == 2)
            let events = try await client.execute(uri: "/v1/events?limit=1000", method: .get, headers: headers(service.auditor)) { String(buffer: $0.body) }
            #expect(events.contains("quote.created") && events.contains("quote.accepted"))
            #expect(!events.contains(code.replacingOccurrences(of: "-", with: "")), "events do not carry the code")
            // The second site's feed has the acceptance (it was credited); the preferred site's has the creation.
            let feed2 = try await client.execute(uri: "/v1/events?limit=1000", method: .get, headers: headers(service.dealer2)) { String(buffer: $0.body) }
            #expect(feed2.contains("quote.accepted"))
        }
        let store = try #require(service.database.store as? any SQLStore)
        let rows = try await store.fetch("test", sql: "SELECT attribution, quote_id, dealer_id FROM event WHERE kind = 'activation'", arguments: [])
        #expect(rows.count == 2 && rows.allSatisfy { ($0["attribution"] as String?) == "counter" && ($0["quote_id"] as String?) != nil })
    }

    @Test("accepted online: the preferred site is credited; without one, the site that made it; else the servicing site — each sale says why",
          arguments: StoreBackend.all)
    func attribution(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await service.app.test(.router) { client in
            let body = #"{"consent":\#(Self.consent)}"#
            let preferred = try await NetworkTests.send(client, service.issuer, .post, "/v1/quotes", Self.quoteBody(items: [("NAV_PLUS", "P1Y")], preferred: "DE-10003"), status: .created)
            let a = try await Self.accept(client, service.issuer, preferred["id"] as? String ?? "", idempotency: "a", body: body)
            #expect((a.body["bookings"] as? [[String: Any]])?.first?["attribution"] as? String == "preferred")
            #expect((a.body["bookings"] as? [[String: Any]])?.first?["dealer"] as? String == "DE-10003")
            #expect((a.body["bookings"] as? [[String: Any]])?.first?["channel"] as? String == "online")

            let quoted = try await NetworkTests.send(client, service.dealer2, .post, "/v1/quotes", Self.quoteBody(items: [("MATRIX_LED", "P1Y")], channel: "dealer"), status: .created)
            let b = try await Self.accept(client, service.issuer, quoted["id"] as? String ?? "", idempotency: "b", body: body)
            #expect((b.body["bookings"] as? [[String: Any]])?.first?["attribution"] as? String == "quoted")
            #expect((b.body["bookings"] as? [[String: Any]])?.first?["dealer"] as? String == "DE-10002")

            let plain = try await NetworkTests.send(client, service.issuer, .post, "/v1/quotes", Self.quoteBody(items: [("PARK_ASSIST", "P1Y")], channel: "vehicle"), status: .created)
            let c = try await Self.accept(client, service.issuer, plain["id"] as? String ?? "", idempotency: "c", body: body)
            #expect((c.body["bookings"] as? [[String: Any]])?.first?["attribution"] as? String == "servicing")
            #expect((c.body["bookings"] as? [[String: Any]])?.first?["dealer"] as? String == "DE-10001")
            #expect((c.body["bookings"] as? [[String: Any]])?.first?["channel"] as? String == "vehicle")

            // The shop must say which terms the customer accepted.
            let d = try await NetworkTests.send(client, service.issuer, .post, "/v1/quotes", Self.quoteBody(items: [("ACC", "P1M")]), status: .created)
            let refused = try await Self.accept(client, service.issuer, d["id"] as? String ?? "", idempotency: "d", body: "{}")
            #expect(refused.status == .unprocessableContent && refused.body["code"] as? String == "field_missing")

            // The month's lines say why each sale is the site's.
            let month = try await NetworkTests.send(client, service.auditor, .get, "/v1/activations?period=2026-11&dealer=DE-10003", "", status: .ok)
            #expect((month["lines"] as? [[String: Any]])?.map { $0["attribution"] as? String } == ["preferred"], "\(month)")
            // The partner's sales list shows why each sale is its.
            let csv = try await client.execute(uri: "/v1/partners/DE-10001/sales?period=2026-11", method: .get, headers: headers(service.auditor)) { String(buffer: $0.body) }
            #expect(csv.contains(",preferred,") && csv.contains(",servicing,"), "\(csv)")
        }
    }

    @Test("the acceptance's answer written from its value tree is byte for byte its Encodable form")
    func acceptAnswerBytes() throws {
        let price = PriceBody(Price(market: try Market("DE"), term: .oneYear, gross: Money(minor: 14_900, try Currency("EUR")), vat: try BasisPoints(1_900), campaign: nil))
        let full = QuoteBookingBody(id: try EntitlementID("01a25139-78c4-77e1-ac3e-0e4beb739df6"), feature: try FeatureCode("NAV_PLUS"), term: .oneYear,
                                    dealer: try DealerID("DE-10002"), attribution: .counter, channel: "dealer", notBefore: 1_795_000_000,
                                    expiresAt: nil, price: price, token: "eyJ\"x\u{1}")
        var campaign = price
        campaign.campaign = "NAV-1EUR"
        let other = QuoteBookingBody(id: try EntitlementID("01a25139-78c4-727d-9398-ad51965a9506"), feature: try FeatureCode("ACC"), term: .oneMonth,
                                     dealer: nil, attribution: nil, channel: "online", notBefore: 5, expiresAt: 6, price: campaign, token: "t")
        let bare = QuoteBookingBody(id: try EntitlementID("01a25139-78c4-727d-9398-ad51965a9507"), feature: try FeatureCode("ACC"), term: .oneMonth,
                                    dealer: nil, attribution: .servicing, channel: "vehicle")
        let answer = QuoteAcceptResponse(id: "qt-1", vin: try VIN(Self.vin), creditedDealer: try DealerID("DE-10002"), attribution: .preferred,
                                         totalMinor: 14_900, currency: try Currency("EUR"), bookings: [full, other, bare])
        var writer = JSONWriter()
        writer.value(answer.json)
        #expect(writer.bytes == (try JSONValueEncoder().bytes(answer)))
    }

    @Test("a quote's code is not in the request log")
    func codeNotLogged() {
        #expect(RequestLogMiddleware.logged("/v1/quotes/by-code/K7QM3XHD9RTA") == "/v1/quotes/by-code/…")
        #expect(RequestLogMiddleware.logged("/dealer/quotes?code=K7QM-3XHD-9RTA") == "/dealer/quotes?code=…")
        #expect(RequestLogMiddleware.logged("/dealer/quotes?x=1&code=K7QM&y=2") == "/dealer/quotes?x=1&code=…&y=2")
        #expect(RequestLogMiddleware.logged("/v1/vehicles/WAUZZZF45RA000001/offers?at=2026-12-01T00:00:00Z") == "/v1/vehicles/WAUZZZF45RA000001/offers?at=2026-12-01T00:00:00Z")
    }

    @Test("the rule is configurable: servicing first credits the servicing site even at another's counter")
    func configuredRule() async throws {
        let rule = try AttributionRule(parsing: "servicing,counter")
        #expect(rule.order == [.servicing, .counter])
        #expect(throws: (any Error).self) { try AttributionRule(parsing: "counter,preferred") }
        #expect(throws: (any Error).self) { try AttributionRule(parsing: "counter,counter,servicing") }
        #expect(throws: (any Error).self) { try AttributionRule(parsing: "counter,nobody,servicing") }
        let credited = await rule.credit { reason -> String? in reason == .counter ? "DE-10002" : "DE-10001" }
        #expect(credited?.site == "DE-10001" && credited?.reason == .servicing)
        let noServicing = await AttributionRule.standard.credit { reason -> String? in reason == .servicing ? "S" : nil }
        #expect(noServicing?.reason == .servicing)
    }

    @Test("a price change between quote and acceptance does not change what the customer pays; the sale names the quote's catalog version",
          arguments: StoreBackend.all)
    func priceLocked(backend: StoreBackend) async throws {
        let clock = SettableClock(TestService.now)
        let service = try await TestService(backend, clock: clock)
        let product = try await service.services.store.createAPIKey(role: .product, dealer: nil, label: "pm", actor: "test", at: TestService.now).secret
        let from = TestService.now + 3_600
        try await service.app.test(.router) { client in
            let quote = try await NetworkTests.send(client, service.issuer, .post, "/v1/quotes", Self.quoteBody(items: [("NAV_PLUS", "P1Y")]), status: .created)
            _ = try await NetworkTests.send(client, product, .post, "/v1/catalog/versions", try CatalogHistoryTests.version("2027.01", navYear: 19_900, at: from),
                                            status: .created)
            clock.set(from + 60)
            try await Task.sleep(for: .milliseconds(1_100))  // the catalog book is read again after a second
            #expect(try await CatalogHistoryTests.offerPrice(client, service.dealer1).gross == 19_900, "today's price changed")
            let accepted = try await Self.accept(client, service.issuer, quote["id"] as? String ?? "", idempotency: "p", body: #"{"consent":\#(Self.consent)}"#)
            #expect(accepted.status == .ok, "\(accepted.body)")
            #expect(((accepted.body["bookings"] as? [[String: Any]])?.first?["price"] as? [String: Any])?["gross_minor"] as? Int == 14_900)
        }
        let store = try #require(service.database.store as? any SQLStore)
        let rows = try await store.fetch("test", sql: "SELECT gross_minor, catalog_version FROM event WHERE kind = 'activation'", arguments: [])
        #expect(rows.map { $0["gross_minor"] as Int64 } == [14_900])
        #expect(rows.map { $0["catalog_version"] as String? } == ["2026.11"])
    }

    @Test("a quote past its expiry is refused with quote_expired, the sweep marks it and raises quote.expired; a cancelled one is refused with quote_cancelled",
          arguments: StoreBackend.all)
    func expiryAndCancel(backend: StoreBackend) async throws {
        let clock = SettableClock(TestService.now)
        let service = try await TestService(backend, clock: clock)
        try await service.app.test(.router) { client in
            let short = try await NetworkTests.send(client, service.issuer, .post, "/v1/quotes", Self.quoteBody(expiresAt: TestService.now + 600), status: .created)
            let id = short["id"] as? String ?? ""
            clock.set(TestService.now + 600)
            #expect(try await NetworkTests.send(client, service.issuer, .get, "/v1/quotes/\(id)", "", status: .ok)["status"] as? String == "expired")
            let refused = try await Self.accept(client, service.issuer, id, idempotency: "x", body: #"{"consent":\#(Self.consent)}"#)
            #expect(refused.status == .conflict && refused.body["code"] as? String == "quote_expired")
            #expect(try await QuoteSweepJob.sweep(service.services) == 1)
            #expect(try await QuoteSweepJob.sweep(service.services) == 0, "a quote expires once")
            let events = try await client.execute(uri: "/v1/events?limit=1000", method: .get, headers: headers(service.auditor)) { String(buffer: $0.body) }
            #expect(events.contains("quote.expired"))
            let open = try await NetworkTests.send(client, service.issuer, .get, "/v1/vehicles/\(Self.vin)/quotes", "", status: .ok)
            #expect((open["quotes"] as? [[String: Any]])?.isEmpty == true)

            let mine = try await NetworkTests.send(client, service.dealer1, .post, "/v1/quotes", Self.quoteBody(channel: "dealer"), status: .created)
            let mineID = mine["id"] as? String ?? ""
            _ = try await NetworkTests.send(client, service.dealer2, .post, "/v1/quotes/\(mineID)/cancel", "", status: .notFound, code: "quote_not_found")
            let cancelled = try await NetworkTests.send(client, service.dealer1, .post, "/v1/quotes/\(mineID)/cancel", "", status: .ok)
            #expect(cancelled["status"] as? String == "cancelled")
            let late = try await Self.accept(client, service.dealer1, mineID, idempotency: "y")
            #expect(late.status == .conflict && late.body["code"] as? String == "quote_cancelled")
            _ = try await NetworkTests.send(client, service.dealer1, .post, "/v1/quotes/\(mineID)/cancel", "", status: .conflict, code: "quote_cancelled")
        }
    }

    @Test("accepting books all items or none: one already active refuses the whole quote", arguments: StoreBackend.all)
    func allOrNone(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await service.app.test(.router) { client in
            let quote = try await NetworkTests.send(client, service.issuer, .post, "/v1/quotes", Self.quoteBody(), status: .created)
            _ = try await NetworkTests.sell(client, service.dealer1, vin: Self.vin, feature: "MATRIX_LED", order: "meanwhile")
            let refused = try await Self.accept(client, service.dealer1, quote["id"] as? String ?? "", idempotency: "z",
                                                body: #"{"code":"\#(quote["code"] as? String ?? "")"}"#)
            #expect(refused.status == .conflict && refused.body["code"] as? String == "already_active", "\(refused.body)")
            #expect(try await NetworkTests.send(client, service.issuer, .get, "/v1/quotes/\(quote["id"] as? String ?? "")", "", status: .ok)["status"] as? String == "open")
        }
        #expect(try await service.services.store.activationCount() == 1, "only the sale at the counter; nothing of the quote")
    }

    @Test("20 parallel acceptances of one quote book it once: with one key the others replay, with twenty keys the others are refused",
          arguments: StoreBackend.all)
    func concurrentAcceptance(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await service.app.test(.router) { client in
            for sameKey in [true, false] {
                let vin = sameKey ? Self.vin : "WAUZZZFY7P2000002"
                let quote = try await NetworkTests.send(client, service.issuer, .post, "/v1/quotes",
                                                        Self.quoteBody(items: [("NAV_PLUS", "P1Y"), ("ACC", "P1M")], vin: vin), status: .created)
                let id = quote["id"] as? String ?? "", code = quote["code"] as? String ?? ""
                let results = try await withThrowingTaskGroup(of: (HTTPResponse.Status, Bool, String?).self) { group in
                    for n in 0..<20 {
                        group.addTask {
                            let answer = try await Self.accept(client, service.dealer1, id, idempotency: sameKey ? "same" : "key-\(n)",
                                                               body: #"{"code":"\#(code)"}"#)
                            return (answer.status, answer.replayed, answer.body["code"] as? String)
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                let booked = results.filter { $0.0 == .ok && !$0.1 }
                #expect(booked.count == 1, "\(results)")
                if sameKey {
                    #expect(results.allSatisfy { $0.0 == .ok }, "\(results)")
                } else {
                    #expect(results.filter { $0.2 == "quote_accepted" }.count == 19, "\(results)")
                }
            }
        }
        #expect(try await service.services.store.activationCount() == 4, "two quotes of two items, each booked once")
    }

    @Test("10,000 random codes find no quote, and the misses are rate-limited per key")
    func guessing() async throws {
        let service = try await TestService()
        try await service.app.test(.router) { client in
            let made = try await NetworkTests.send(client, service.issuer, .post, "/v1/quotes", Self.quoteBody(), status: .created)
            let real = made["code"] as? String ?? ""
            var statuses: [UInt: Int] = [:]
            for _ in 0..<10_000 {
                var guess = ""
                repeat { guess = String((0..<12).map { _ in "ABCDEFGHJKMNPQRSTVWXYZ23456789".randomElement()! }) } while guess == real.replacingOccurrences(of: "-", with: "")
                let status = try await client.execute(uri: "/v1/quotes/by-code/\(guess)", method: .get, headers: headers(service.dealer2)) { $0.status.code }
                statuses[UInt(status), default: 0] += 1
            }
            #expect(statuses[200] == nil, "no guess found a quote")
            #expect((statuses[404] ?? 0) <= 40, "at most the burst (and what refills meanwhile) is looked up: \(statuses)")
            #expect((statuses[429] ?? 0) >= 9_960, "\(statuses)")
            // The real code still opens for a key that did not guess; the guessing key waits.
            _ = try await NetworkTests.send(client, service.dealer1, .get, "/v1/quotes/by-code/\(real)", "", status: .ok)
            _ = try await NetworkTests.send(client, service.dealer2, .get, "/v1/quotes/by-code/\(real)", "", status: .tooManyRequests, code: "rate_limited")
        }
    }

    @Test("bad quotes are refused with their codes")
    func refusals() async throws {
        let service = try await TestService()
        try await service.app.test(.router) { client in
            let cases: [(String, String, HTTPResponse.Status, String)] = [
                (service.issuer, #"{"vin":"\#(Self.vin)","items":[],"channel":"app"}"#, .unprocessableContent, "request_invalid"),
                (service.issuer, Self.quoteBody(items: [("NAV_PLUS", "P1Y"), ("NAV_PLUS", "P1M")]), .unprocessableContent, "request_invalid"),
                (service.issuer, Self.quoteBody(channel: "fax"), .unprocessableContent, "request_invalid"),
                (service.issuer, Self.quoteBody(channel: "dealer"), .unprocessableContent, "request_invalid"),
                (service.dealer1, Self.quoteBody(channel: "app"), .unprocessableContent, "request_invalid"),
                (service.issuer, Self.quoteBody(expiresAt: TestService.now - 1), .unprocessableContent, "expires_at_invalid"),
                (service.issuer, Self.quoteBody(expiresAt: TestService.now + 400 * 86_400), .unprocessableContent, "expires_at_invalid"),
                (service.issuer, Self.quoteBody(preferred: "DE-99999"), .unprocessableContent, "preferred_dealer_invalid"),
                (service.issuer, Self.quoteBody(preferred: "FR-20001"), .unprocessableContent, "preferred_dealer_invalid"),
                (service.issuer, Self.quoteBody(items: [("MORE_POWER", "P1Y")]), .unprocessableContent, "term_not_offered"),
                (service.issuer, Self.quoteBody(items: [("NO_SUCH", "P1Y")]), .notFound, "feature_unknown"),
                (service.issuer, Self.quoteBody(items: [("MATRIX_LED", "P1Y")], vin: "VF1LM1B0H36666155"), .unprocessableContent, "not_eligible"),
                (service.auditor, Self.quoteBody(), .forbidden, "forbidden"),
                (service.issuer, #"{"vin":"\#(Self.vin)","items":[{"feature":"NAV_PLUS","term":"P1Y","x":1}],"channel":"app"}"#, .unprocessableContent, "field_unknown"),
            ]
            for (key, text, status, code) in cases {
                _ = try await NetworkTests.send(client, key, .post, "/v1/quotes", text, status: status, code: code)
            }
            _ = try await NetworkTests.send(client, service.issuer, .get, "/v1/quotes/qt-nope", "", status: .notFound, code: "quote_not_found")
            let noKey = try await client.execute(uri: "/v1/quotes/qt-nope/accept", method: .post, headers: headers(service.issuer), body: body("{}")) { try json($0) }
            #expect(noKey["code"] as? String == "idempotency_key_required")
        }
    }

    @Test("the book extract shows why each closed line's sale was credited to its site", arguments: StoreBackend.all)
    func bookExtractAttribution(backend: StoreBackend) async throws {
        let clock = SettableClock(TestService.now)
        let service = try await TestService(backend, clock: clock)
        try await service.app.test(.router) { client in
            let quote = try await NetworkTests.send(client, service.issuer, .post, "/v1/quotes", Self.quoteBody(items: [("PARK_ASSIST", "P1Y")], preferred: "DE-10003"), status: .created)
            let accepted = try await Self.accept(client, service.issuer, quote["id"] as? String ?? "", idempotency: "q", body: #"{"consent":\#(Self.consent)}"#)
            let quoted = (accepted.body["bookings"] as? [[String: Any]])?.first?["id"] as? String
            let counter = try await NetworkTests.sell(client, service.dealer1, vin: Self.vin, feature: "NAV_PLUS", order: "c")["id"] as? String
            clock.set(1_796_083_200 + 60)  // 2026-12-01T00:01Z: November has ended
            _ = try await PeriodCloseTests.close(client, service.auditor, "2026-11")
            let text = try await PeriodCloseTests.get(client, service.auditor, "/v1/dealers/DE-10001/book-extract")
            let lines = (try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])?["lines"] as? [[String: Any]] ?? []
            let reasons = Dictionary(lines.map { ($0["entitlement_id"] as? String ?? "", $0["attribution"] as? String ?? "") }, uniquingKeysWith: { a, _ in a })
            #expect(reasons[quoted ?? "-"] == "preferred" && reasons[counter ?? "-"] == "counter", "\(lines)")
            #expect(lines.first { $0["entitlement_id"] as? String == quoted }?["site_id"] as? String == "DE-10003")
            let csv = try await PeriodCloseTests.get(client, service.auditor, "/v1/dealers/DE-10001/book-extract?format=csv")
            #expect(csv.split(separator: "\n").first?.hasSuffix(",attribution") == true && csv.contains(",preferred"))
        }
    }
}
