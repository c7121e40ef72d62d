import FoDAPI
import FoDCore
import FoDEntitlements
import FoDInvoicing
import FoDServer
import FoDStore
import FoDTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// The network through the API: partners with effective-dated versions, sites, salespeople, keys
/// per site, a site closing with its successor, and the money per partner.
@Suite("The dealer network: partners, sites, salespeople")
struct NetworkTests {
    static func partner(_ id: String, iban: String = "DE89370400440532013000", vat: String = "DE281745393", market: String = "DE",
                        main: String? = nil, extra: String = "") -> String {
        """
        {"id":"\(id)","name":"Autohaus \(id)","legal_name":"Autohaus \(id) GmbH",
         "address":{"street":"Hafenstraße 1","postcode":"20457","city":"Hamburg","country":"DE"},
         "vat_id":"\(vat)","tax_number":"22/123/45678",
         "payout":{"iban":"\(iban)","bic":"COBADEFFXXX","holder":"Autohaus \(id) GmbH"},
         "invoice_contact":{"name":"Buchhaltung","phone":"+49 40 123456","email":"rechnung@\(id.lowercased()).example"},
         "electronic_address":"e-rechnung@\(id.lowercased()).example","market":"\(market)"\(main.map { #","main_partner":"\#($0)""# } ?? "")\(extra)}
        """
    }

    static func send(_ client: some TestClientProtocol, _ key: String, _ method: HTTPRequest.Method, _ uri: String, _ text: String,
                     status: HTTPResponse.Status, code: String? = nil) async throws -> [String: Any] {
        try await client.execute(uri: uri, method: method, headers: headers(key), body: body(text)) { response async throws in
            #expect(response.status == status, "\(method) \(uri): \(String(buffer: response.body))")
            let answer = try json(response)
            if let code { #expect(answer["code"] as? String == code, "\(uri): \(answer)") }
            return answer
        }
    }

    static func sell(_ client: some TestClientProtocol, _ key: String, vin: String, feature: String, order: String) async throws -> [String: Any] {
        try await client.execute(uri: "/v1/activations", method: .post, headers: headers(key, idempotency: order),
                                 body: body(#"{"vin":"\#(vin)","feature":"\#(feature)","term":"P1Y"}"#)) { response async throws in
            #expect(response.status == .created, "\(String(buffer: response.body))")
            return try json(response)
        }
    }

    @Test("through the API alone: a partner with two sites and a salesperson, a key per site, sales at both → one credit note with both sites, EN 16931 and XRechnung valid",
          arguments: StoreBackend.all)
    func partnerWithTwoSites(backend: StoreBackend) async throws {
        let clock = SettableClock(TestService.now)
        let service = try await TestService(backend, clock: clock)
        let store = service.services.store
        let network = try await store.createAPIKey(role: .network, dealer: nil, label: "network team", actor: "test", at: TestService.now).secret
        try await service.app.test(.router) { client in
            let created = try await Self.send(client, network, .post, "/v1/partners", Self.partner("P-NORD"), status: .created)
            #expect((created["in_force"] as? [String: Any])?["legal_name"] as? String == "Autohaus P-NORD GmbH")
            _ = try await Self.send(client, network, .post, "/v1/partners/P-NORD/sites",
                                    #"{"id":"S-HH","name":"Nord Hamburg","address":{"street":"Hafenstraße 1","postcode":"20457","city":"Hamburg","country":"DE"}}"#,
                                    status: .created)
            _ = try await Self.send(client, network, .post, "/v1/partners/P-NORD/sites", #"{"id":"S-HB","name":"Nord Bremen","market":"DE"}"#, status: .created)
            _ = try await Self.send(client, network, .post, "/v1/sites/S-HH/salespeople", #"{"id":"SP-7"}"#, status: .created)
            let partner = try await client.execute(uri: "/v1/partners/P-NORD", method: .get, headers: headers(service.auditor)) { try json($0) }
            #expect((partner["sites"] as? [[String: Any]])?.map { $0["id"] as? String } == ["S-HB", "S-HH"])

            let hamburg = try await store.createAPIKey(role: .dealer, dealer: try DealerID("S-HH"), salesperson: try SalespersonID("SP-7"), label: "hh",
                                                       actor: "test", at: TestService.now).secret
            let bremen = try await store.createAPIKey(role: .dealer, dealer: try DealerID("S-HB"), label: "hb", actor: "test", at: TestService.now).secret
            let me = try await client.execute(uri: "/v1/me", method: .get, headers: headers(hamburg)) { try json($0) }
            #expect((me["partner"] as? [String: Any])?["id"] as? String == "P-NORD" && me["salesperson"] as? String == "SP-7", "\(me)")

            let sold = try await Self.sell(client, hamburg, vin: "WAUZZZF45RA000001", feature: "NAV_PLUS", order: "o1")
            _ = try await Self.sell(client, bremen, vin: "WAUZZZFY7P2000002", feature: "NAV_PLUS", order: "o2")
            #expect(sold["dealer"] as? String == "S-HH" || (sold["claims"] as? [String: Any])?["dealer"] as? String == "S-HH", "\(sold)")

            // The partner's sales export names the salesperson.
            let csv = try await PeriodCloseTests.get(client, hamburg, "/v1/partners/P-NORD/sales?period=\(PeriodCloseTests.november)")
            let rows = csv.split(separator: "\n")
            #expect(rows.count == 3, "\(csv)")
            #expect(rows.contains { $0.contains("S-HH") && $0.contains("SP-7") } && rows.contains { $0.contains("S-HB") })
            _ = try await PeriodCloseTests.get(client, service.dealer1, "/v1/partners/P-NORD/sales?period=\(PeriodCloseTests.november)", status: .forbidden)

            clock.set(PeriodCloseTests.decemberFirst + 60)
            let closed = try await PeriodCloseTests.close(client, service.auditor, PeriodCloseTests.november)
            let notes = (closed["credit_notes"] as? [[String: Any]] ?? []).filter { $0["dealer_id"] as? String == "P-NORD" }
            #expect(notes.count == 1, "one credit note for the partner: \(closed)")
            let number = notes.first?["number"] as? String ?? ""
            let xml = try await PeriodCloseTests.get(client, hamburg, "/v1/credit-notes/\(number)/xml")
            #expect(xml.contains("Standort S-HH Nord Hamburg") && xml.contains("Standort S-HB Nord Bremen"), "\(xml)")
            #expect(xml.contains("DE89370400440532013000") && xml.contains("rechnung@p-nord.example"))
            _ = try await PeriodCloseTests.get(client, service.dealer1, "/v1/credit-notes/\(number)/xml", status: .notFound)
            let folder = try TestPaths.temporaryDirectory()
            let file = folder.appendingPathComponent(number + ".xml")
            try xml.write(to: file, atomically: true, encoding: .utf8)
            let en16931 = try PeriodCloseTests.validate([file])
            #expect(en16931.status == 0, "\(en16931.stdout)\(en16931.stderr)")
            let xrechnung = try PeriodCloseTests.validateXRechnung([file])
            #expect(xrechnung.status == 0, "\(xrechnung.stdout)\(xrechnung.stderr)")
            #expect(!xrechnung.stdout.contains("BR-DE-1 ") && !xrechnung.stdout.contains("BR-DE-2 "), "\(xrechnung.stdout)")

            // The book extract is the partner's, its lines by site.
            let extract = try await PeriodCloseTests.get(client, bremen, "/v1/dealers/P-NORD/book-extract")
            #expect(extract.contains(#""site_id":"S-HH""#) && extract.contains(#""site_id":"S-HB""#), "\(extract)")
        }
    }

    @Test("a site closes with a successor: its key stops at the date, its vehicles' later purchases credit the successor, earlier sales keep the site",
          arguments: StoreBackend.all)
    func siteClosesWithSuccessor(backend: StoreBackend) async throws {
        let clock = SettableClock(TestService.now)
        let service = try await TestService(backend, clock: clock)
        let store = service.services.store
        let now = TestService.now
        try await service.app.test(.router) { client in
            _ = try await Self.send(client, service.admin, .post, "/v1/partners", Self.partner("P-SUED"), status: .created)
            _ = try await Self.send(client, service.admin, .post, "/v1/partners/P-SUED/sites", #"{"id":"S-OLD","name":"Alt"}"#, status: .created)
            _ = try await Self.send(client, service.admin, .post, "/v1/partners/P-SUED/sites", #"{"id":"S-NEW","name":"Neu"}"#, status: .created)
            _ = try await Self.send(client, service.admin, .post, "/v1/sites/S-OLD/salespeople", #"{"id":"SP-OLD"}"#, status: .created)
            _ = try await Self.send(client, service.issuer, .put, "/v1/vehicles/WAUZZZF45RA000001/dealer", #"{"dealer_id":"S-OLD"}"#, status: .ok)
            let old = try await store.createAPIKey(role: .dealer, dealer: try DealerID("S-OLD"), label: "old", actor: "test", at: now).secret
            let before = try await Self.sell(client, old, vin: "WAUZZZF45RA000001", feature: "NAV_PLUS", order: "b1")
            let beforeID = try #require(before["id"] as? String)

            // Refused: another market's successor, itself, a date in the past.
            let at = Instant(unixSeconds: now + 3_600).rfc3339
            _ = try await Self.send(client, service.admin, .post, "/v1/sites/S-OLD/close", #"{"effective_at":"\#(at)","successor":"FR-20001"}"#,
                                    status: .unprocessableContent, code: "successor_invalid")
            _ = try await Self.send(client, service.admin, .post, "/v1/sites/S-OLD/close", #"{"effective_at":"\#(at)","successor":"S-OLD"}"#,
                                    status: .unprocessableContent, code: "successor_invalid")
            _ = try await Self.send(client, service.admin, .post, "/v1/sites/S-OLD/close",
                                    #"{"effective_at":"\#(Instant(unixSeconds: now - 60).rfc3339)","successor":"S-NEW"}"#,
                                    status: .unprocessableContent, code: "effective_at_invalid")
            _ = try await Self.send(client, service.dealer1, .post, "/v1/sites/S-OLD/close", #"{"effective_at":"\#(at)","successor":"S-NEW"}"#, status: .forbidden)

            let closed = try await Self.send(client, service.admin, .post, "/v1/sites/S-OLD/close", #"{"effective_at":"\#(at)","successor":"S-NEW"}"#, status: .ok)
            #expect(closed["vehicles_moved"] as? Int == 1, "\(closed)")
            _ = try await Self.send(client, service.admin, .post, "/v1/sites/S-OLD/close", #"{"effective_at":"\#(at)","successor":"S-NEW"}"#,
                                    status: .conflict, code: "site_closed")
            _ = try await Self.send(client, service.admin, .post, "/v1/sites/S-OLD/salespeople", #"{"id":"SP-LATE"}"#, status: .conflict, code: "site_closed")
            _ = try await Self.send(client, service.admin, .post, "/v1/sites/S-NEW/close", #"{"effective_at":"\#(at)","successor":"S-OLD"}"#,
                                    status: .unprocessableContent, code: "successor_invalid")

            // Until the date the key works, and its web session; from it on the key is 401 and the session is gone.
            try await client.execute(uri: "/v1/me", method: .get, headers: headers(old)) { #expect($0.status == .ok) }
            let principal = try #require(try await store.authenticate(secret: old, at: now))
            let (cookie, _) = try await store.createSession(for: principal, lifetime: 8 * 3_600, at: now)
            #expect(try await store.session(cookie: cookie, at: now + 3_599) != nil)
            #expect(try await store.session(cookie: cookie, at: now + 3_600) == nil)
            clock.set(now + 3_601)
            try await Task.sleep(for: .milliseconds(600))  // the principal cache's time
            try await client.execute(uri: "/v1/me", method: .get, headers: headers(old)) { #expect($0.status == .unauthorized) }

            // An online purchase after the date credits the successor; the sale before keeps the closed site.
            let acknowledged = Instant(unixSeconds: now + 3_541).rfc3339
            let purchase = #"{"vin":"WAUZZZF45RA000001","feature":"MATRIX_LED","term":"P1Y","channel":"online","order_id":"after-close","gross_minor":17900,"currency":"EUR","consent":{"terms_version":"2026-11","immediate_start":true,"acknowledged_at":"\#(acknowledged)"}}"#
            let bought = try await Self.send(client, service.issuer, .post, "/v1/purchases", purchase, status: .created)
            #expect(bought["dealer"] as? String == "S-NEW", "\(bought)")
            let first = try await client.execute(uri: "/v1/entitlements/\(beforeID)", method: .get, headers: headers(service.issuer)) { try json($0) }
            #expect(first["dealer"] as? String == "S-OLD", "\(first)")
            let site = try await client.execute(uri: "/v1/sites/S-OLD", method: .get, headers: headers(service.auditor)) { try json($0) }
            #expect(site["successor"] as? String == "S-NEW" && site["closed_at"] as? String == at)
            #expect((site["salespeople"] as? [[String: Any]])?.first?["active_to"] as? String == at, "the salespeople end with the site")
        }
    }

    @Test("bad input: each refusal has its code and writes nothing", arguments: StoreBackend.all)
    func badInput(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        let store = service.services.store
        try await service.app.test(.router) { client in
            let before = try await store.network()
            _ = try await Self.send(client, service.admin, .post, "/v1/partners", Self.partner("P-X", iban: "DE88370400440532013000"),
                                    status: .unprocessableContent, code: "iban_invalid")
            _ = try await Self.send(client, service.admin, .post, "/v1/partners", Self.partner("P-X", vat: "DE123456789"),
                                    status: .unprocessableContent, code: "vat_id_invalid")
            _ = try await Self.send(client, service.admin, .post, "/v1/partners", Self.partner("P-X", market: "Germany"),
                                    status: .unprocessableContent, code: "market_invalid")
            _ = try await Self.send(client, service.admin, .post, "/v1/partners", Self.partner("P-X", main: "NOBODY"),
                                    status: .notFound, code: "partner_not_found")
            _ = try await Self.send(client, service.admin, .post, "/v1/partners", Self.partner("P-X", main: "DE-10007"),
                                    status: .unprocessableContent, code: "invalid")
            _ = try await Self.send(client, service.admin, .post, "/v1/partners", Self.partner("DE-10003"), status: .conflict, code: "conflict")
            _ = try await Self.send(client, service.admin, .post, "/v1/partners", Self.partner("P-X", extra: #","unknown":1"#),
                                    status: .unprocessableContent, code: "field_unknown")
            _ = try await Self.send(client, service.dealer1, .post, "/v1/partners", Self.partner("P-X"), status: .forbidden)
            _ = try await Self.send(client, service.auditor, .post, "/v1/partners", Self.partner("P-X"), status: .forbidden)
            let after = try await store.network()
            #expect(after.partners.count == before.partners.count && after.sites.count == before.sites.count, "nothing half-written")

            _ = try await Self.send(client, service.admin, .post, "/v1/partners", Self.partner("P-X"), status: .created)
            _ = try await Self.send(client, service.admin, .post, "/v1/partners", Self.partner("P-X"), status: .conflict, code: "conflict")
            _ = try await Self.send(client, service.admin, .post, "/v1/partners/P-X/sites", #"{"id":"DE-10001","name":"Taken"}"#, status: .conflict, code: "conflict")
            _ = try await Self.send(client, service.admin, .post, "/v1/partners/NOBODY/sites", #"{"id":"S-Q","name":"Q"}"#, status: .notFound, code: "partner_not_found")
            _ = try await Self.send(client, service.admin, .post, "/v1/partners/P-X/sites", #"{"id":"S-Q","name":"Q"}"#, status: .created)
            _ = try await Self.send(client, service.admin, .post, "/v1/sites/S-Q/salespeople", #"{"id":"SP-1"}"#, status: .created)
            _ = try await Self.send(client, service.admin, .post, "/v1/sites/DE-10001/salespeople", #"{"id":"SP-1"}"#, status: .conflict, code: "dates_overlap")
            _ = try await Self.send(client, service.admin, .post, "/v1/sites/S-Q/salespeople", #"{"id":"bad id"}"#,
                                    status: .unprocessableContent, code: "salesperson_invalid")
            _ = try await Self.send(client, service.admin, .post, "/v1/sites/NOPE/salespeople", #"{"id":"SP-2"}"#, status: .notFound, code: "site_not_found")
            let past = Instant(unixSeconds: TestService.now - 86_400).rfc3339
            let version = Self.partner("P-X").replacingOccurrences(of: #"{"id":"P-X","#, with: #"{"effective_at":"\#(past)","#)
            _ = try await Self.send(client, service.admin, .post, "/v1/partners/P-X/versions", version, status: .unprocessableContent, code: "effective_at_invalid")
            _ = try await Self.send(client, service.admin, .post, "/v1/partners/P-X/end", "{}", status: .conflict, code: "conflict")
        }
    }

    @Test("a change of IBAN from a date is a new version: the old one stays in force until then, both are listed, the change is an event",
          arguments: StoreBackend.all)
    func effectiveDatedChange(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await service.app.test(.router) { client in
            _ = try await Self.send(client, service.admin, .post, "/v1/partners", Self.partner("P-Y"), status: .created)
            let from = TestService.now + 10 * 86_400
            let version = Self.partner("P-Y", iban: "DE02120300000000202051")
                .replacingOccurrences(of: #"{"id":"P-Y","#, with: #"{"effective_at":"\#(Instant(unixSeconds: from).rfc3339)","#)
            let changed = try await Self.send(client, service.admin, .post, "/v1/partners/P-Y/versions", version, status: .created)
            #expect((changed["versions"] as? [[String: Any]])?.count == 2)
            func iban(_ answer: [String: Any]) -> String? { ((answer["in_force"] as? [String: Any])?["payout"] as? [String: Any])?["iban"] as? String }
            #expect(iban(changed) == "DE89370400440532013000", "not yet in force")
            let later = try await client.execute(uri: "/v1/partners/P-Y?at=\(Instant(unixSeconds: from).rfc3339)", method: .get, headers: headers(service.auditor)) { try json($0) }
            #expect(iban(later) == "DE02120300000000202051")
            _ = try await Self.send(client, service.admin, .post, "/v1/partners/P-Y/versions", version, status: .conflict, code: "dates_overlap")
            let events = try await client.execute(uri: "/v1/events", method: .get, headers: headers(service.auditor)) { String(buffer: $0.body) }
            #expect(events.contains("partner.created") && events.contains("partner.changed"), "\(events)")
        }
    }

    @Test("a sub-agent's sales are paid to its main partner, shown under the sub-agent on the main partner's one credit note")
    func subAgent() async throws {
        let clock = SettableClock(TestService.now)
        let service = try await TestService(.sqlite, clock: clock)
        let klein = try await service.services.store.createAPIKey(role: .dealer, dealer: try DealerID("DE-10007"), label: "klein", actor: "test",
                                                                  at: TestService.now).secret
        try await service.app.test(.router) { client in
            _ = try await Self.sell(client, klein, vin: "WAUZZZFY7P2000002", feature: "NAV_PLUS", order: "k1")
            _ = try await Self.sell(client, service.dealer2, vin: "3VWD07AJ5EM388202", feature: "NAV_PLUS", order: "m1")
            clock.set(PeriodCloseTests.decemberFirst + 60)
            let closed = try await PeriodCloseTests.close(client, service.auditor, PeriodCloseTests.november)
            let notes = closed["credit_notes"] as? [[String: Any]] ?? []
            #expect(notes.map { $0["dealer_id"] as? String } == ["DE-10002"], "\(notes)")
            let number = notes.first?["number"] as? String ?? ""
            let xml = try await PeriodCloseTests.get(client, service.dealer2, "/v1/credit-notes/\(number)/xml")
            #expect(xml.contains("Unteragent DE-10007") && xml.contains("Standort DE-10002"), "\(xml)")
            _ = try await PeriodCloseTests.get(client, klein, "/v1/credit-notes/\(number)/xml", status: .notFound)
        }
    }
}
