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

/// Closing a month: credit notes checked by the CEN's EN 16931 rules, numbering, late events,
/// the book extract, objections and the signed statement.
@Suite("Closing periods and credit notes")
struct PeriodCloseTests {
    static let november = "2026-11"
    static let decemberFirst: Int64 = 1_796_083_200
    static let januaryFirst: Int64 = 1_798_761_600

    static func purchase(_ client: some TestClientProtocol, _ service: TestService, order: String, vin: String, feature: String, term: String,
                         gross: Int64, currency: String = "EUR") async throws -> String {
        // The customer acknowledged the early start a minute before the purchase.
        let acknowledged = Instant(unixSeconds: service.services.clock.unixSeconds() - 60).rfc3339
        let text = #"{"vin":"\#(vin)","feature":"\#(feature)","term":"\#(term)","channel":"online","order_id":"\#(order)","gross_minor":\#(gross),"currency":"\#(currency)","consent":{"terms_version":"2026-11","immediate_start":true,"acknowledged_at":"\#(acknowledged)"}}"#
        return try await client.execute(uri: "/v1/purchases", method: .post, headers: headers(service.issuer), body: body(text)) { response async throws in
            #expect(response.status == .created, "\(String(buffer: response.body))")
            return try json(response)["id"] as? String ?? ""
        }
    }

    static func close(_ client: some TestClientProtocol, _ key: String, _ period: String, status: HTTPResponse.Status = .ok,
                      code: String? = nil) async throws -> [String: Any] {
        try await client.execute(uri: "/v1/periods/\(period)/close", method: .post, headers: headers(key)) { response async throws in
            #expect(response.status == status, "\(String(buffer: response.body))")
            let answer = try json(response)
            if let code { #expect(answer["code"] as? String == code) }
            return answer
        }
    }

    static func get(_ client: some TestClientProtocol, _ key: String, _ uri: String, status: HTTPResponse.Status = .ok) async throws -> String {
        try await client.execute(uri: uri, method: .get, headers: headers(key)) { response async throws in
            #expect(response.status == status, "\(uri): \(String(buffer: response.body))")
            return String(buffer: response.body)
        }
    }

    /// Runs the EN 16931 validator (the CEN's schema and Schematron under Saxon) on the files.
    static func validate(_ files: [URL]) throws -> ProcessResult {
        try ProcessRunner.run("python3", [TestPaths.file("scripts/validators/validate-cii.py").path] + files.map(\.path))
    }

    /// Runs KoSIT's XRechnung rules (BR-DE-…, Schematron compiled to XSLT, under Saxon) on the files.
    static func validateXRechnung(_ files: [URL]) throws -> ProcessResult {
        try ProcessRunner.run("python3", [TestPaths.file("scripts/validators/xrechnung/validate-xrechnung.py").path] + files.map(\.path))
    }

    @Test("a month closes once it has ended: numbered credit notes that pass EN 16931, equal to the statements; closing again changes nothing; a late event is settled next month",
          arguments: StoreBackend.all)
    func closeMonth(backend: StoreBackend) async throws {
        let clock = SettableClock(TestService.now)
        let service = try await TestService(backend, clock: clock)
        try await service.app.test(.router) { client in
            let nav = try await Self.purchase(client, service, order: "N-1", vin: "WAUZZZF45RA000001", feature: "NAV_PLUS", term: "P1Y", gross: 14_900)
            _ = try await Self.purchase(client, service, order: "N-2", vin: "WAUZZZF45RA000001", feature: "MATRIX_LED", term: "P1Y", gross: 17_900)
            let berlin = try await Self.purchase(client, service, order: "N-3", vin: "WAUZZZFY7P2000002", feature: "NAV_PLUS", term: "P1Y", gross: 14_900)
            _ = try await Self.purchase(client, service, order: "N-4", vin: "JN1DA31D63T505967", feature: "NAV_PLUS", term: "P1Y", gross: 24_000, currency: "JPY")

            // Not before the month has ended; not by a dealer or an issuer key.
            _ = try await Self.close(client, service.auditor, Self.november, status: .conflict, code: "period_not_closable")
            _ = try await Self.close(client, service.dealer1, Self.november, status: .forbidden)
            _ = try await Self.close(client, service.issuer, Self.november, status: .forbidden)
            _ = try await Self.close(client, service.auditor, "2026-13", status: .badRequest, code: "query_invalid")

            clock.set(Self.decemberFirst + 60)
            let statements = try await client.execute(uri: "/v1/reports/statements?period=\(Self.november)", method: .get, headers: headers(service.auditor)) {
                try json($0)["statements"] as? [[String: Any]] ?? []
            }
            let closed = try await Self.close(client, service.auditor, Self.november)
            let notes = closed["credit_notes"] as? [[String: Any]] ?? []
            #expect(notes.map { $0["number"] as? String } == ["GS-2026-000001", "GS-2026-000002", "GS-2026-000003"])
            // Each credit note's net is the dealer's payable in the statement, to the cent.
            for note in notes {
                let statement = statements.first { $0["dealer_id"] as? String == note["dealer_id"] as? String && $0["currency"] as? String == note["currency"] as? String }
                #expect(statement?["payable"] as? String == note["net"] as? String, "\(note)")
                #expect(note["type_code"] as? String == "389")
            }
            let byDealer = Dictionary(uniqueKeysWithValues: notes.map { ($0["dealer_id"] as? String ?? "", $0) })
            #expect(byDealer["JP-30001"]?["currency"] as? String == "JPY")
            #expect(byDealer["JP-30001"]?["tax"] as? String == "0", "reverse charge for a dealer abroad")

            // Closing again is the first result.
            let again = try await Self.close(client, service.admin, Self.november)
            #expect((again["credit_notes"] as? [[String: Any]])?.map { $0["number"] as? String } == notes.map { $0["number"] as? String })
            #expect(again["closed_at"] as? String == closed["closed_at"] as? String)

            // The documents pass the EN 16931 rules.
            let folder = try TestPaths.temporaryDirectory()
            var files: [URL] = []
            for note in notes {
                let number = note["number"] as? String ?? ""
                let xml = try await Self.get(client, service.auditor, "/v1/credit-notes/\(number)/xml")
                #expect(xml.contains("<ram:TypeCode>389</ram:TypeCode>"))
                let file = folder.appendingPathComponent(number + ".xml")
                try xml.write(to: file, atomically: true, encoding: .utf8)
                files.append(file)
                let html = try await Self.get(client, service.auditor, "/v1/credit-notes/\(number)/html")
                #expect(html.contains("Gutschrift") && html.contains(number))
                #expect(html.contains("Konto: ") && html.contains("Kontakt: "), "the payout account and invoice contact are on the document")
            }
            let result = try Self.validate(files)
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")

            // A dealer sees only its own documents.
            let own = try await Self.get(client, service.dealer1, "/v1/credit-notes")
            #expect(own.contains("DE-10001") && !own.contains("DE-10002"))
            let berlinNote = byDealer["DE-10002"]?["number"] as? String ?? ""
            _ = try await Self.get(client, service.dealer1, "/v1/credit-notes/\(berlinNote)/xml", status: .notFound)

            // The signed statement verifies with the published keys, and fails once changed.
            let signed = try JSONSerialization.jsonObject(with: Data(try await Self.get(client, service.auditor, "/v1/periods/\(Self.november)/statement").utf8)) as? [String: Any] ?? [:]
            let text = signed["statement"] as? String ?? "", signature = signed["signature"] as? String ?? ""
            _ = try DetachedJWS.verify(signature, payload: Array(text.utf8), keys: service.services.keys)
            let tampered = text.replacingOccurrences(of: "\"payable\" : ", with: "\"payable\" : 1")
            #expect(tampered != text)
            #expect(throws: EntitlementError.self) { try DetachedJWS.verify(signature, payload: Array(tampered.utf8), keys: service.services.keys) }
            let mine = try JSONSerialization.jsonObject(with: Data(try await Self.get(client, service.dealer1, "/v1/periods/\(Self.november)/statement").utf8)) as? [String: Any] ?? [:]
            let mineText = mine["statement"] as? String ?? ""
            #expect(mineText.contains("DE-10001") && !mineText.contains("DE-10002"))
            _ = try DetachedJWS.verify(mine["signature"] as? String ?? "", payload: Array(mineText.utf8), keys: service.services.keys)

            // An activation dated in November but committed after its close (the clock of a
            // writer that stamped it before midnight), and a refund in December of Berlin's sale.
            clock.set(Self.decemberFirst - 30)
            let late = try await Self.purchase(client, service, order: "N-5", vin: "WAUZZZF45RA000001", feature: "ACC", term: "P1M", gross: 2_499)
            clock.set(Self.decemberFirst + 3_600)
            try await client.execute(uri: "/v1/activations/\(berlin)/refund", method: .post, headers: headers(service.issuer), body: body("{}")) { response async throws in
                #expect(response.status == .ok, "\(String(buffer: response.body))")
            }
            // November is unchanged.
            let november = try await Self.get(client, service.auditor, "/v1/periods/\(Self.november)")
            #expect(!november.contains(late))

            // Periods close in order; December closes in January and numbers in 2027.
            _ = try await Self.close(client, service.auditor, "2027-01", status: .conflict, code: "period_not_closable")
            clock.set(Self.januaryFirst + 60)
            let december = try await Self.close(client, service.auditor, "2026-12")
            let decemberStatements = december["statements"] as? [[String: Any]] ?? []
            let munich = decemberStatements.first { $0["dealer_id"] as? String == "DE-10001" }
            #expect(munich?["adjustments"] as? Int == 1, "the late activation, once")
            #expect((munich?["adjustment"] as? Int ?? 0) > 0)
            let berlinDecember = decemberStatements.first { $0["dealer_id"] as? String == "DE-10002" }
            #expect((berlinDecember?["payable"] as? Int ?? 0) < 0, "a clawback without sales: the dealer owes")
            let decemberNotes = december["credit_notes"] as? [[String: Any]] ?? []
            #expect(Set(decemberNotes.map { $0["number"] as? String ?? "" }) == ["GS-2027-000001", "GS-2027-000002"])
            let correction = decemberNotes.first { $0["dealer_id"] as? String == "DE-10002" }
            #expect(correction?["type_code"] as? String == "261")
            #expect(correction?["kind"] as? String == "correction")
            let correctionXML = try await Self.get(client, service.auditor, "/v1/credit-notes/\(correction?["number"] as? String ?? "")/xml")
            #expect(correctionXML.contains(berlinNote), "refers to the credit note it corrects")
            let correctionFile = folder.appendingPathComponent("correction.xml")
            try correctionXML.write(to: correctionFile, atomically: true, encoding: .utf8)
            let checked = try Self.validate([correctionFile])
            #expect(checked.status == 0, "\(checked.stdout)")

            // The late event is settled once: January has no adjustment for it.
            clock.set(Self.januaryFirst + 31 * 86_400 + 60)
            let january = try await Self.close(client, service.auditor, "2027-01")
            #expect((january["statements"] as? [[String: Any]] ?? []).allSatisfy { ($0["adjustments"] as? Int ?? 0) == 0 }, "\(january)")
            #expect((january["credit_notes"] as? [[String: Any]] ?? []).isEmpty, "nothing payable in January")

            // The book extract: every line of the dealer with rule, rate, jti and audit entry.
            let extract = try JSONSerialization.jsonObject(with: Data(try await Self.get(client, service.dealer1, "/v1/dealers/DE-10001/book-extract?from=2026-11&to=2026-12").utf8)) as? [String: Any] ?? [:]
            let lines = extract["lines"] as? [[String: Any]] ?? []
            #expect(extract["closed_periods"] as? [String] == ["2026-11", "2026-12"])
            let whole = try JSONSerialization.jsonObject(with: Data(try await Self.get(client, service.auditor, "/v1/dealers/DE-10001/book-extract").utf8)) as? [String: Any] ?? [:]
            #expect(whole["closed_periods"] as? [String] == ["2026-11", "2026-12", "2027-01"])
            #expect(lines.count == 3)
            #expect(lines.contains { $0["entitlement_id"] as? String == nav && $0["kind"] as? String == "activation" && $0["audit_seq"] is Int })
            #expect(lines.contains { $0["entitlement_id"] as? String == late && $0["kind"] as? String == "adjustment" && $0["period"] as? String == "2026-12" })
            #expect(lines.allSatisfy { ($0["rule_id"] as? String)?.isEmpty == false })
            let csv = try await Self.get(client, service.dealer1, "/v1/dealers/DE-10001/book-extract?from=2026-11&to=2026-12&format=csv")
            #expect(csv.hasPrefix(BookExtractLine.columns.joined(separator: ",")))
            _ = try await Self.get(client, service.dealer1, "/v1/dealers/DE-10002/book-extract", status: .forbidden)
        }
    }

    @Test("an objection is recorded for the dealer's own credit note and settled as an adjustment of the next month closed", arguments: StoreBackend.all)
    func objections(backend: StoreBackend) async throws {
        let clock = SettableClock(TestService.now)
        let service = try await TestService(backend, clock: clock)
        try await service.app.test(.router) { client in
            _ = try await Self.purchase(client, service, order: "O-1", vin: "WAUZZZF45RA000001", feature: "NAV_PLUS", term: "P1Y", gross: 14_900)
            _ = try await Self.purchase(client, service, order: "O-2", vin: "WAUZZZFY7P2000002", feature: "NAV_PLUS", term: "P1Y", gross: 14_900)
            clock.set(Self.decemberFirst + 60)
            let closed = try await Self.close(client, service.auditor, Self.november)
            let notes = closed["credit_notes"] as? [[String: Any]] ?? []
            let munich = notes.first { $0["dealer_id"] as? String == "DE-10001" }?["number"] as? String ?? ""
            let berlin = notes.first { $0["dealer_id"] as? String == "DE-10002" }?["number"] as? String ?? ""
            func object(_ key: String, _ number: String, _ text: String, status: HTTPResponse.Status) async throws -> [String: Any] {
                try await client.execute(uri: "/v1/credit-notes/\(number)/objections", method: .post, headers: headers(key), body: body(text)) { response async throws in
                    #expect(response.status == status, "\(String(buffer: response.body))")
                    return try json(response)
                }
            }
            _ = try await object(service.dealer1, berlin, #"{"reason":"not mine"}"#, status: .notFound)
            _ = try await object(service.dealer1, munich, #"{"reason":""}"#, status: .unprocessableContent)
            _ = try await object(service.dealer1, munich, #"{"reason":"x","event_id":"act-nope"}"#, status: .notFound)
            _ = try await object(service.auditor, munich, #"{"reason":"x"}"#, status: .forbidden)
            let raised = try await object(service.dealer1, munich, #"{"reason":"the tier bonus is missing"}"#, status: .created)
            let id = raised["id"] as? String ?? ""
            #expect(raised["status"] as? String == "open")
            let listed = try await Self.get(client, service.dealer2, "/v1/objections")
            #expect(!listed.contains(id), "a dealer sees only its own objections")

            func resolve(_ text: String, status: HTTPResponse.Status, code: String? = nil) async throws -> [String: Any] {
                try await client.execute(uri: "/v1/objections/\(id)/resolve", method: .post, headers: headers(service.auditor), body: body(text)) { response async throws in
                    #expect(response.status == status, "\(String(buffer: response.body))")
                    let answer = try json(response)
                    if let code { #expect(answer["code"] as? String == code) }
                    return answer
                }
            }
            _ = try await resolve(#"{"decision":"adjust","amount":"1.5","reason":"bonus"}"#, status: .unprocessableContent, code: "amount_invalid")
            _ = try await resolve(#"{"decision":"maybe","reason":"bonus"}"#, status: .unprocessableContent, code: "decision_invalid")
            let decided = try await resolve(#"{"decision":"adjust","amount":"12.34","reason":"tier bonus of November"}"#, status: .ok)
            #expect(decided["status"] as? String == "adjusted")
            _ = try await resolve(#"{"decision":"reject","reason":"twice"}"#, status: .conflict, code: "objection_decided")

            clock.set(Self.januaryFirst + 60)
            let december = try await Self.close(client, service.auditor, "2026-12")
            let statement = (december["statements"] as? [[String: Any]])?.first { $0["dealer_id"] as? String == "DE-10001" }
            #expect(statement?["adjustment"] as? Int == 1_234)
            #expect(statement?["payable"] as? Int == 1_234)
            let note = (december["credit_notes"] as? [[String: Any]])?.first { $0["dealer_id"] as? String == "DE-10001" }
            #expect(note?["net"] as? String == "12.34")
            #expect(note?["tax"] as? String == "2.34", "19 % of 12.34 = 2.3446, to the cent")
            let audit = try await service.database.store.auditEntries(after: 0, limit: 1_000).map(\.action)
            #expect(audit.contains("objection.raise") && audit.contains("objection.adjusted") && audit.filter { $0 == "period.close" }.count == 2)
        }
    }

    @Test("two closes at once number the credit notes once, without gaps", arguments: StoreBackend.all)
    func concurrentCloses(backend: StoreBackend) async throws {
        let clock = SettableClock(TestService.now)
        let service = try await TestService(backend, clock: clock)
        try await service.app.test(.router) { client in
            _ = try await Self.purchase(client, service, order: "C-1", vin: "WAUZZZF45RA000001", feature: "NAV_PLUS", term: "P1Y", gross: 14_900)
            _ = try await Self.purchase(client, service, order: "C-2", vin: "WAUZZZFY7P2000002", feature: "NAV_PLUS", term: "P1Y", gross: 14_900)
        }
        let closing = PeriodCloseService(services: service.services)
        async let first = closing.close(Self.november, at: Self.decemberFirst + 5, actor: "a")
        async let second = closing.close(Self.november, at: Self.decemberFirst + 6, actor: "b")
        let (a, b) = try await (first, second)
        #expect(a.creditNotes.map(\.number) == b.creditNotes.map(\.number))
        #expect(a.closedAt == b.closedAt)
        let all = try await service.database.store.creditNotes(period: nil, dealer: nil).map(\.number)
        #expect(all == ["GS-2026-000001", "GS-2026-000002"])
    }

    @Test("fod's own check and the EN 16931 rules refuse a credit note without the dealer's tax registration or with a wrong total")
    func brokenCreditNotes() throws {
        let issuer = try IssuerProfile(json: Array(try Data(contentsOf: TestPaths.file("fixtures/revenue/issuer.json"))))
        let dealer = try LegalParty(legalName: "Autohaus Test GmbH",
                                    address: try PostalAddress(street: "Hauptstraße 1", postcode: "10115", city: "Berlin", country: try CountryCode("DE")),
                                    vatID: try VATID("DE136247187"), taxNumber: nil)
        let draft = CreditNoteDraft(dealerID: "DE-1", currency: try Currency("EUR"), share: 10_001, clawback: 2_000, adjustment: 0,
                                    activations: 3, clawbacks: 1, adjustments: 0)
        let note = try #require(try CreditNote.make(draft, number: "", issuedAt: Self.decemberFirst, year: 2026, month: 11, issuer: issuer,
                                                    dealer: dealer, preceding: nil)).numbered("GS-2026-000009")
        #expect(note.net == 8_001 && note.tax == 1_520 && note.total == 9_521)
        try note.check()
        let folder = try TestPaths.temporaryDirectory()
        let good = folder.appendingPathComponent("good.xml")
        try note.ciiXML().write(to: good, atomically: true, encoding: .utf8)
        #expect(try Self.validate([good]).status == 0)

        // Without the dealer's VAT ID (and no tax number): fod refuses to make it; the XML is refused too.
        let unregistered = try LegalParty(legalName: dealer.legalName, address: dealer.address, vatID: nil, taxNumber: nil)
        #expect(throws: InvoicingError(.masterDataIncomplete, "")) {
            try CreditNote.make(draft, number: "", issuedAt: Self.decemberFirst, year: 2026, month: 11, issuer: issuer, dealer: unregistered, preceding: nil)
        }
        let noVAT = folder.appendingPathComponent("no-vat.xml")
        try note.ciiXML().replacingOccurrences(of: "<ram:ID schemeID=\"VA\">DE136247187</ram:ID>", with: "").replacingOccurrences(
            of: "<ram:SpecifiedTaxRegistration>\n      </ram:SpecifiedTaxRegistration>", with: "").write(to: noVAT, atomically: true, encoding: .utf8)
        let refusedVAT = try Self.validate([noVAT])
        #expect(refusedVAT.status != 0)
        #expect(refusedVAT.stdout.contains("BR-"), "\(refusedVAT.stdout)")

        // A wrong total: fod's check and the validator.
        var document = try JSONSerialization.jsonObject(with: JSONEncoder().encode(note)) as? [String: Any] ?? [:]
        document["total"] = 9_522
        let wrong = try JSONDecoder().decode(CreditNote.self, from: JSONSerialization.data(withJSONObject: document))
        #expect(throws: InvoicingError(.creditNoteInvalid, "")) { try wrong.check() }
        let wrongFile = folder.appendingPathComponent("wrong-total.xml")
        try wrong.ciiXML().write(to: wrongFile, atomically: true, encoding: .utf8)
        let refusedTotal = try Self.validate([wrongFile])
        #expect(refusedTotal.status != 0)
        #expect(refusedTotal.stdout.contains("BR-CO-15"), "\(refusedTotal.stdout)")
    }

    @Test("dealer master data is validated: VAT IDs with their check digit, countries, required fields")
    func masterData() throws {
        #expect(throws: InvoicingError.self) { try VATID("DE123456789") }
        #expect(throws: InvoicingError.self) { try VATID("de123456788") }
        #expect(throws: InvoicingError.self) { try CountryCode("XX") }
        _ = try VATID("DE123456788")
        _ = try VATID("FR40123456824")
        #expect(throws: InvoicingError.self) {
            try PostalAddress(street: " ", postcode: "1", city: "B", country: try CountryCode("DE"))
        }
        let fixture = try String(contentsOf: TestPaths.file("fixtures/dealers.json"), encoding: .utf8)
        let fixtures = try Fixtures(dealers: fixture, vehicles: "[]", catalog: try String(contentsOf: TestPaths.file("fixtures/catalog.json"), encoding: .utf8))
        #expect(fixtures.partners.allSatisfy { $0.details.party?.hasTaxRegistration == true })
        let bad = fixture.replacingOccurrences(of: "DE123456788", with: "DE123456789")
        #expect(throws: StoreError(.invalid, "")) {
            try Fixtures(dealers: bad, vehicles: "[]", catalog: try String(contentsOf: TestPaths.file("fixtures/catalog.json"), encoding: .utf8))
        }
    }
}
