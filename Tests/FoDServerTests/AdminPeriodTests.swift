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

/// The back office's periods and the four eyes on money (docs/back-office.md): the close
/// checklist, the rehearsal, the close, objections decided — above the four-eyes amount only
/// with a second person — and a plan version proposed and approved; events name the person.
@Suite("Back office: periods and money")
struct AdminPeriodTests {
    static func finance(_ service: TestService, _ label: String) async throws -> (secret: String, id: String) {
        let made = try await service.services.store.createAPIKey(role: .finance, dealer: nil, label: label, actor: "test", at: TestService.now)
        return (made.secret, made.record.id)
    }

    static func objection(_ client: some TestClientProtocol, _ key: String, _ number: String, _ reason: String) async throws -> String {
        try await client.execute(uri: "/v1/credit-notes/\(number)/objections", method: .post, headers: headers(key), body: body(#"{"reason":"\#(reason)"}"#)) { response async throws in
            #expect(response.status == .created, "\(String(buffer: response.body))")
            return try json(response)["id"] as? String ?? ""
        }
    }

    @Test("the checklist names open objections and a partner without master data; the close rehearsed, then closed from the page in the person's name; an adjustment above the four-eyes amount takes a second person, a small one does not; a plan version takes a second person; an auditor reads only; events name the person, a dealer's feed does not",
          arguments: StoreBackend.all)
    func periodsAndMoney(backend: StoreBackend) async throws {
        let clock = SettableClock(TestService.now)
        let service = try await TestService(backend, clock: clock)
        let (alice, _) = try await Self.finance(service, "alice")
        let (bob, bobID) = try await Self.finance(service, "bob")
        try await service.app.test(.router) { client in
            _ = try await PeriodCloseTests.purchase(client, service, order: "P-1", vin: "WAUZZZF45RA000001", feature: "NAV_PLUS", term: "P1Y", gross: 14_900)
            _ = try await PeriodCloseTests.purchase(client, service, order: "P-2", vin: "WAUZZZFY7P2000002", feature: "NAV_PLUS", term: "P1Y", gross: 14_900)
            // A partner whose master data cannot make a credit note (no legal name, address or tax registration), with a site.
            // (The API refuses such a partner; one comes from a dealer of before the network without party data.)
            _ = try await service.services.store.createPartner(try PartnerID("P-BARE"), PartnerDetails(name: "Bare", market: "DE", party: nil, mainPartner: nil),
                                                               joinedAt: TestService.now - 86_400, actor: "test", at: TestService.now)
            _ = try await NetworkTests.send(client, service.admin, .post, "/v1/partners/P-BARE/sites", #"{"id":"S-BARE","name":"Bare site"}"#, status: .created)

            var first = Browser(client: client), second = Browser(client: client), auditor = Browser(client: client), issuer = Browser(client: client)
            /// Signs everybody in (again: a session ends after half an hour idle, and the clock jumps by weeks here).
            func signIn() async throws {
                _ = try await AdminWebTests.signIn(&first, alice)
                _ = try await AdminWebTests.signIn(&second, bob)
                _ = try await AdminWebTests.signIn(&auditor, service.auditor)
                _ = try await AdminWebTests.signIn(&issuer, service.issuer)
            }
            try await signIn()
            #expect(try await issuer.get("/admin/periods").status == .forbidden, "periods are finance's (and an auditor's to read)")

            // November has not ended: the checklist says so, and there is no close button.
            var page = String(buffer: try await first.get("/admin/periods").body)
            #expect(page.contains("Closing 2026-11") && page.contains("2026-11 cannot close yet.") && !page.contains("id=\"close-period\""), "\(page)")
            #expect(page.contains("P-BARE") && page.contains("master_data_incomplete"), "the partner without master data is on the checklist")

            clock.set(PeriodCloseTests.decemberFirst + 60)
            try await signIn()
            var response = try await first.get("/admin/periods")
            page = String(buffer: response.body)
            #expect(page.contains("2026-11 has ended") && page.contains("No objection is open.") && !page.contains("id=\"close-period\""),
                    "the partner without master data blocks the close")
            // The partner gets its data; the close is open.
            _ = try await NetworkTests.send(client, service.admin, .post, "/v1/partners/P-BARE/versions",
                                            NetworkTests.partner("P-BARE").replacingOccurrences(of: #"{"id":"P-BARE","#, with: "{"), status: .created)
            response = try await first.get("/admin/periods")
            page = String(buffer: response.body)
            let csrf = try #require(Browser.hidden("csrf", in: response))
            #expect(!page.contains("master_data_incomplete") && page.contains("id=\"close-period\""), "\(page)")

            let rehearsed = try await first.post("/admin/periods/2026-11/rehearse", [("csrf", csrf)])
            #expect(rehearsed.status == .ok && String(buffer: rehearsed.body).contains("2 credit note(s)") && String(buffer: rehearsed.body).contains("rehearsal-ok"),
                    "\(String(buffer: rehearsed.body))")
            #expect(try await service.services.store.closedPeriod("2026-11") == nil, "a rehearsal stores nothing")
            #expect(try await auditor.post("/admin/periods/2026-11/close", [("csrf", Browser.hidden("csrf", in: try await auditor.get("/admin/periods")) ?? "")]).status == .forbidden)
            let closed = try await first.post("/admin/periods/2026-11/close", [("csrf", csrf)])
            #expect(closed.status == .seeOther && closed.headers[.location] == "/admin/periods/2026-11", "\(String(buffer: closed.body))")
            let closedPage = String(buffer: try await auditor.get("/admin/periods/2026-11").body)
            #expect(closedPage.contains("finance:person:key:") && closedPage.contains("Gutschrift"), "\(closedPage)")
            let notes = try #require(try await service.services.store.closedPeriod("2026-11")?.creditNotes)
            let munich = try #require(notes.first { $0.dealerID == "DE-10001" }?.number)
            let document = try await auditor.get("/admin/credit-notes/\(munich)")
            #expect(document.status == .ok && String(buffer: document.body).contains(munich))
            #expect(String(buffer: try await auditor.get("/admin/credit-notes/\(munich)/xml").body).contains("CrossIndustryInvoice"))

            // Objections: one large, one small, one left open.
            let large = try await Self.objection(client, service.dealer1, munich, "the tier bonus is missing")
            let small = try await Self.objection(client, service.dealer1, munich, "one activation missing")
            let left = try await Self.objection(client, service.dealer1, munich, "another one")
            response = try await first.get("/admin/periods")
            page = String(buffer: response.body)
            #expect(page.contains("3 objection(s) are open.") && page.contains("id=\"decide-\(large)\""), "\(page)")
            let auditorPeriods = try await auditor.get("/admin/periods")
            #expect(!String(buffer: auditorPeriods.body).contains("id=\"decide-"), "an auditor sees no decision forms")
            #expect(try await auditor.post("/admin/objections/\(small)/decide", [("csrf", Browser.hidden("csrf", in: auditorPeriods) ?? ""), ("decision", "reject"),
                                                                                ("reason", "no")]).status == .forbidden)
            let formCSRF = try #require(Browser.hidden("csrf", in: response))
            let proposed = try await first.post("/admin/objections/\(large)/decide", [("csrf", formCSRF), ("decision", "adjust"), ("amount", "12000.00"),
                                                                                      ("reason", "tier bonus of November")])
            #expect(proposed.status == .seeOther && proposed.headers[.location]?.hasPrefix("/admin/proposals#proposal-") == true, "\(String(buffer: proposed.body))")
            #expect(try await service.services.store.objection(large)?.status == .open, "above the four-eyes amount, nothing is booked yet")
            let proposal = try #require(try await service.services.store.proposals(limit: 5).first { $0.kind == .adjustment })
            #expect(proposal.subject == large && proposal.requiredRole == .finance)
            let proposals = try await first.get("/admin/proposals")
            let own = try await first.post("/admin/proposals/\(proposal.id)/approve", [("csrf", Browser.hidden("csrf", in: proposals) ?? "")])
            #expect(own.status == .forbidden && String(buffer: own.body).contains("proposal_own"))
            let approved = try await second.post("/admin/proposals/\(proposal.id)/approve",
                                                 [("csrf", Browser.hidden("csrf", in: try await second.get("/admin/proposals")) ?? "")])
            #expect(approved.status == .seeOther, "\(String(buffer: approved.body))")
            let booked = try #require(try await service.services.store.objection(large))
            #expect(booked.status == .adjusted && booked.resolvedBy?.contains(bobID) == true, "booked in the approver's name: \(booked)")

            let direct = try await first.post("/admin/objections/\(small)/decide", [("csrf", formCSRF), ("decision", "adjust"), ("amount", "12.34"), ("reason", "fair")])
            #expect(direct.status == .seeOther && direct.headers[.location] == "/admin/periods?decided=\(small)", "\(String(buffer: direct.body))")
            #expect(try await service.services.store.objection(small)?.status == .adjusted)
            let twice = try await first.post("/admin/objections/\(small)/decide", [("csrf", formCSRF), ("decision", "reject"), ("reason", "again")])
            #expect(twice.status == .conflict && String(buffer: twice.body).contains("objection_decided"))
            let badAmount = try await first.post("/admin/objections/\(left)/decide", [("csrf", formCSRF), ("decision", "adjust"), ("amount", "12,5"), ("reason", "x")])
            #expect(badAmount.status == .unprocessableContent && String(buffer: badAmount.body).contains("amount_invalid"))

            // Decided through the API while its proposal waited: approved, not applied, and it says why; applied again only by a second person.
            let raced = try await Self.objection(client, service.dealer1, munich, "raced")
            _ = try await first.post("/admin/objections/\(raced)/decide", [("csrf", formCSRF), ("decision", "adjust"), ("amount", "15000.00"), ("reason", "r")])
            let racedProposal = try #require(try await service.services.store.proposals(limit: 10).first { $0.subject == raced })
            _ = try await client.execute(uri: "/v1/objections/\(raced)/resolve", method: .post, headers: headers(service.auditor),
                                         body: body(#"{"decision":"reject","reason":"decided by machine"}"#)) { #expect($0.status == .ok) }
            let secondPage = try await second.get("/admin/proposals")
            let failed = try await second.post("/admin/proposals/\(racedProposal.id)/approve", [("csrf", Browser.hidden("csrf", in: secondPage) ?? "")])
            #expect(failed.status == .conflict && String(buffer: failed.body).contains("objection_decided"))
            let noted = try #require(try await service.services.store.proposal(id: racedProposal.id))
            #expect(noted.storedStatus == .approved && noted.result?.hasPrefix("not applied: objection_decided") == true, "\(String(describing: noted.result))")
            let retryPage = try await second.get("/admin/proposals")
            #expect(String(buffer: retryPage.body).contains("id=\"apply-\(racedProposal.id)\""))
            let byProposer = try await first.post("/admin/proposals/\(racedProposal.id)/apply", [("csrf", formCSRF)])
            #expect(byProposer.status == .forbidden && String(buffer: byProposer.body).contains("proposal_own"))
            let again = try await second.post("/admin/proposals/\(racedProposal.id)/apply", [("csrf", Browser.hidden("csrf", in: retryPage) ?? "")])
            #expect(again.status == .conflict && String(buffer: again.body).contains("objection_decided"), "still decided: still not applied")
            let appliedOnce = try await second.post("/admin/proposals/\(proposal.id)/apply", [("csrf", Browser.hidden("csrf", in: retryPage) ?? "")])
            #expect(appliedOnce.status == .conflict && String(buffer: appliedOnce.body).contains("proposal_decided"), "an applied proposal is not applied again")

            // A plan version: proposed by one, in force only when the second approves.
            let master = try await first.get("/admin/master-data")
            #expect(String(buffer: master.body).contains("id=\"propose-plan-version\""))
            #expect(!String(buffer: try await issuer.get("/admin/master-data").body).contains("id=\"propose-plan-version\""))
            let version = try PlanServiceTests.version("2026.12-admin", share: 300, at: PeriodCloseTests.decemberFirst + 10 * 86_400)
            let notJSON = try await first.post("/admin/plans/propose", [("csrf", formCSRF), ("plan", "network"), ("document", "{"), ("comment", "x")])
            #expect(notJSON.status == .unprocessableContent && String(buffer: notJSON.body).contains("document_invalid"))
            let planned = try await first.post("/admin/plans/propose", [("csrf", formCSRF), ("plan", "network"), ("document", version), ("comment", "3 % from 11 December")])
            #expect(planned.status == .seeOther, "\(String(buffer: planned.body))")
            #expect(!(try await PeriodCloseTests.get(client, service.auditor, "/v1/plans/network")).contains("2026.12-admin"), "not before the approval")
            let planProposal = try #require(try await service.services.store.proposals(limit: 5).first { $0.kind == .planVersion })
            // The second person sees what it would have paid in November (closed): 3 % instead of the plan's rates.
            let preview = try await second.get("/admin/plan-previews/\(planProposal.id)")
            let previewed = String(buffer: preview.body)
            #expect(preview.status == .ok && previewed.contains("over 2026-11") && previewed.contains("DE-10001") && previewed.contains("EUR"), "\(previewed)")
            #expect(try await issuer.get("/admin/plan-previews/\(planProposal.id)").status == .forbidden)
            _ = try await second.post("/admin/proposals/\(planProposal.id)/approve", [("csrf", Browser.hidden("csrf", in: try await second.get("/admin/proposals")) ?? "")])
            #expect(try await PeriodCloseTests.get(client, service.auditor, "/v1/plans/network").contains("2026.12-admin"))
            #expect(try await service.services.store.proposal(id: planProposal.id)?.result?.hasPrefix("plan network: version 2026.12-admin") == true)

            // Events name the person; a dealer's feed does not.
            let events = try await client.execute(uri: "/v1/events?after=0&limit=1000", method: .get, headers: headers(service.admin)) { try json($0) }["events"] as? [[String: Any]] ?? []
            let adjusted = events.first { $0["type"] as? String == "objection.adjusted" && ($0["data"] as? [String: Any])?["id"] as? String == large }
            #expect((adjusted?["actor"] as? String)?.contains("finance:person:key:\(bobID)") == true, "\(adjusted ?? [:])")
            #expect((events.last { $0["type"] as? String == "plan.versioned" }?["actor"] as? String)?.contains(bobID) == true)
            let feed = try await client.execute(uri: "/v1/events?after=0&limit=1000", method: .get, headers: headers(service.dealer1)) { try json($0) }["events"] as? [[String: Any]] ?? []
            #expect(!feed.isEmpty && feed.allSatisfy { $0["actor"] == nil }, "a dealer does not learn who at the OEM acted")

            // December closes with one objection open only when the person confirms it.
            clock.set(PeriodCloseTests.januaryFirst + 60)
            try await signIn()
            response = try await first.get("/admin/periods")
            let december = try #require(Browser.hidden("csrf", in: response))
            #expect(String(buffer: response.body).contains("1 objection(s) are open.") && String(buffer: response.body).contains("id=\"objections_seen\""))
            let unconfirmed = try await first.post("/admin/periods/2026-12/close", [("csrf", december)])
            #expect(unconfirmed.status == .conflict && String(buffer: unconfirmed.body).contains("objections_open"))
            let confirmed = try await first.post("/admin/periods/2026-12/close", [("csrf", december), ("objections_seen", "1")])
            #expect(confirmed.status == .seeOther, "\(String(buffer: confirmed.body))")
            let decemberClose = try #require(try await service.services.store.closedPeriod("2026-12"))
            #expect(decemberClose.actor.hasPrefix("finance:person:key:"))
            let line = decemberClose.creditNotes.first { $0.dealerID == "DE-10001" }
            #expect(line?.net == 1_201_234, "both adjustments, 12,000.00 and 12.34, are paid in December: \(String(describing: line?.net))")
        }
    }

    @Test("with --four-eyes-only the API refuses a plan version and an adjustment above the four-eyes amount (they take two people in the back office); a small adjustment goes through",
          arguments: StoreBackend.all)
    func fourEyesOnly(backend: StoreBackend) async throws {
        let clock = SettableClock(TestService.now)
        let service = try await TestService(backend, clock: clock, fourEyesOnly: true)
        let (finance, _) = try await Self.finance(service, "finance")
        try await service.app.test(.router) { client in
            _ = try await NetworkTests.send(client, finance, .post, "/v1/plans/network/versions",
                                            try PlanServiceTests.version("four-eyes", share: 300, at: TestService.now + 86_400),
                                            status: .forbidden, code: "four_eyes_required")
            _ = try await PeriodCloseTests.purchase(client, service, order: "F-1", vin: "WAUZZZF45RA000001", feature: "NAV_PLUS", term: "P1Y", gross: 14_900)
            clock.set(PeriodCloseTests.decemberFirst + 60)
            let closed = try await PeriodCloseTests.close(client, service.auditor, PeriodCloseTests.november)
            let number = try #require((closed["credit_notes"] as? [[String: Any]])?.first?["number"] as? String)
            let large = try await Self.objection(client, service.dealer1, number, "large"), small = try await Self.objection(client, service.dealer1, number, "small")
            _ = try await NetworkTests.send(client, service.auditor, .post, "/v1/objections/\(large)/resolve", #"{"decision":"adjust","amount":"10000.01","reason":"x"}"#,
                                            status: .forbidden, code: "four_eyes_required")
            #expect(try await service.services.store.objection(large)?.status == .open)
            _ = try await NetworkTests.send(client, service.auditor, .post, "/v1/objections/\(small)/resolve", #"{"decision":"adjust","amount":"10000.00","reason":"x"}"#,
                                            status: .ok)
        }
    }
}
