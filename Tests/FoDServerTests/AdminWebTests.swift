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

/// The back office at `/admin` without an identity provider: people sign in with an API key of a
/// staff role; a revocation from a vehicle's page names them in the audit log; roles hold.
@Suite("Back office")
struct AdminWebTests {
    static let vin = "WAUZZZF45RA000001"

    static func signIn(_ browser: inout Browser, _ key: String) async throws -> TestResponse {
        let page = try await browser.get("/admin/login")
        return try await browser.post("/admin/login", [("key", key), ("csrf", Browser.hidden("csrf", in: page) ?? "")])
    }

    @Test("sign in with a staff key, open a vehicle, revoke with a reason and a comment: the entitlement is revoked and the audit names who; an auditor may look but not revoke; a dealer key, a forged form and no session get nowhere",
          arguments: StoreBackend.all)
    func revokeFromVehiclePage(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await service.app.test(.router) { client in
            let sale = try await NetworkTests.sell(client, service.dealer1, vin: Self.vin, feature: "NAV_PLUS", order: "admin-1")
            let id = try #require(sale["id"] as? String)
            var anonymous = Browser(client: client)
            let away = try await anonymous.get("/admin/vehicles/\(Self.vin)")
            #expect(away.status == .seeOther && away.headers[.location] == "/admin/login")

            var dealer = Browser(client: client)
            let refused = try await Self.signIn(&dealer, service.dealer1)
            #expect(refused.status == .forbidden && dealer.cookies["fod_admin_session"] == nil, "a dealer key never reaches /admin")

            var auditor = Browser(client: client)
            _ = try await Self.signIn(&auditor, service.auditor)
            let seen = try await auditor.get("/admin/vehicles/\(Self.vin)")
            #expect(seen.status == .ok && String(buffer: seen.body).contains(id) && !String(buffer: seen.body).contains("id=\"revoke\""),
                    "an auditor sees the vehicle, without the revoke form")
            let tried = try await auditor.post("/admin/vehicles/\(Self.vin)/revoke", [("csrf", Browser.hidden("csrf", in: seen) ?? ""), ("entitlement", id),
                                                                                     ("reason", "fraud"), ("comment", "no")])
            #expect(tried.status == .forbidden)
            let master = String(buffer: try await auditor.get("/admin/master-data").body)
            #expect(master.contains("DE-10001") && master.contains("in force"), "the network, catalog and plans as they stand")
            let search = try await auditor.get("/admin/audit?action=session.start")
            #expect(search.status == .ok && String(buffer: search.body).contains("session.start"))
            let verified = try await auditor.post("/admin/audit/verify", [("csrf", Browser.hidden("csrf", in: search) ?? "")])
            #expect(String(buffer: verified.body).contains("entries verifies."))
            #expect(try await auditor.get("/admin/audit?from=yesterday").status == .unprocessableContent)

            var issuer = Browser(client: client)
            let signedIn = try await Self.signIn(&issuer, service.issuer)
            #expect(signedIn.status == .seeOther && signedIn.headers[.location] == "/admin")
            #expect(issuer.lastSetCookies.contains { $0.hasPrefix("fod_admin_session=") && $0.contains("HttpOnly") && $0.contains("Path=/admin") })
            #expect(try await issuer.get("/admin/audit").status == .forbidden, "the audit log is the auditor's")
            let page = try await issuer.get("/admin/vehicles/\(Self.vin)")
            let csrf = try #require(Browser.hidden("csrf", in: page))
            let forged = try await issuer.post("/admin/vehicles/\(Self.vin)/revoke", [("csrf", "forged"), ("entitlement", id), ("reason", "fraud"), ("comment", "x")])
            #expect(forged.status == .forbidden)
            let badReason = try await issuer.post("/admin/vehicles/\(Self.vin)/revoke", [("csrf", csrf), ("entitlement", id), ("reason", "whim"), ("comment", "x")])
            #expect(badReason.status == .unprocessableContent)
            let done = try await issuer.post("/admin/vehicles/\(Self.vin)/revoke", [("csrf", csrf), ("entitlement", id), ("reason", "fraud"),
                                                                                 ("comment", "card reported stolen")])
            #expect(done.status == .seeOther, "\(String(buffer: done.body))")
            let after = try await issuer.get(done.headers[.location] ?? "")
            #expect(String(buffer: after.body).contains("revoked") && String(buffer: after.body).contains("fraud: card reported stolen"))
            let entitlement = try await NetworkTests.send(client, service.issuer, .get, "/v1/entitlements/\(id)", "", status: .ok)
            #expect(entitlement["revoked_at"] != nil && !(entitlement["revoked_at"] is NSNull), "\(entitlement)")
            let audit = try await client.execute(uri: "/v1/audit?after=0&limit=1000", method: .get, headers: headers(service.auditor)) { try json($0) }
            let revoke = (audit["entries"] as? [[String: Any]] ?? []).last { $0["action"] as? String == "entitlement.revoke" }
            #expect((revoke?["actor"] as? String)?.hasPrefix("issuer:person:key:") == true, "\(revoke ?? [:])")

            // Reinstated from the same page, and a change of owner recorded.
            let again = try await issuer.get("/admin/vehicles/\(Self.vin)")
            let reinstated = try await issuer.post("/admin/vehicles/\(Self.vin)/act", [("csrf", Browser.hidden("csrf", in: again) ?? ""), ("entitlement", id),
                                                                                     ("action", "reinstate"), ("comment", "card found")])
            #expect(reinstated.status == .seeOther, "\(String(buffer: reinstated.body))")
            let back = try await NetworkTests.send(client, service.issuer, .get, "/v1/entitlements/\(id)", "", status: .ok)
            #expect(back["revoked_at"] == nil || back["revoked_at"] is NSNull, "\(back)")
            let transferred = try await issuer.post("/admin/vehicles/\(Self.vin)/transfer", [("csrf", Browser.hidden("csrf", in: again) ?? ""), ("effective", "")])
            #expect(transferred.status == .seeOther, "\(String(buffer: transferred.body))")
            let entries = try await client.execute(uri: "/v1/audit?after=0&limit=1000", method: .get, headers: headers(service.auditor)) { try json($0) }
            let actions = (entries["entries"] as? [[String: Any]] ?? []).filter { ($0["actor"] as? String)?.hasPrefix("issuer:person:key:") == true }.compactMap { $0["action"] as? String }
            #expect(actions.contains("entitlement.reinstate") && actions.contains("vehicle.transfer"), "\(actions)")

            // Sign-out ends the session.
            let home = try await issuer.get("/admin")
            let out = try await issuer.post("/admin/logout", [("csrf", Browser.hidden("csrf", in: home) ?? "")])
            #expect(out.status == .seeOther && issuer.cookies["fod_admin_session"] == nil)
            issuer.cookies["fod_admin_session"] = "stolen-or-old"
            #expect(try await issuer.get("/admin").headers[.location] == "/admin/login")
        }
    }

    @Test("the network team adds and ends a salesperson from the master data page, in the person's name; an issuer may not", arguments: StoreBackend.all)
    func salespeople(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        let network = try await service.services.store.createAPIKey(role: .network, dealer: nil, label: "net", actor: "test", at: TestService.now)
        try await service.app.test(.router) { client in
            var person = Browser(client: client), issuer = Browser(client: client)
            _ = try await Self.signIn(&person, network.secret)
            _ = try await Self.signIn(&issuer, service.issuer)
            let page = try await person.get("/admin/master-data")
            #expect(String(buffer: page.body).contains("id=\"salesperson-form\""))
            let csrf = try #require(Browser.hidden("csrf", in: page))
            let added = try await person.post("/admin/network/salespeople", [("csrf", csrf), ("action", "add"), ("site", "DE-10001"), ("salesperson", "SP-9"), ("date", "")])
            #expect(added.status == .seeOther && added.headers[.location] == "/admin/master-data?salesperson=SP-9#sites", "\(String(buffer: added.body))")
            let site = try await NetworkTests.send(client, service.auditor, .get, "/v1/sites/DE-10001", "", status: .ok)
            #expect((site["salespeople"] as? [[String: Any]])?.contains { $0["id"] as? String == "SP-9" } == true, "\(site)")
            let twice = try await person.post("/admin/network/salespeople", [("csrf", csrf), ("action", "add"), ("site", "DE-10001"), ("salesperson", "SP-9")])
            #expect(twice.status == .conflict && String(buffer: twice.body).contains("dates_overlap"))
            let badDate = try await person.post("/admin/network/salespeople", [("csrf", csrf), ("action", "end"), ("site", "DE-10001"), ("salesperson", "SP-9"),
                                                                              ("date", "tomorrow")])
            #expect(badDate.status == .unprocessableContent && String(buffer: badDate.body).contains("date_invalid"))
            let ended = try await person.post("/admin/network/salespeople", [("csrf", csrf), ("action", "end"), ("site", "DE-10001"), ("salesperson", "SP-9"),
                                                                             ("date", "2026-12-24")])
            #expect(ended.status == .seeOther, "\(String(buffer: ended.body))")
            let entries = try await service.services.store.auditEntries(after: 0, limit: 1_000)
            #expect(entries.contains { $0.action == "salesperson.add" && $0.actor.hasPrefix("network:person:key:\(network.record.id)") })
            #expect(entries.contains { $0.action == "salesperson.end" && $0.actor.hasPrefix("network:person:key:\(network.record.id)") })
            #expect(!String(buffer: try await issuer.get("/admin/master-data").body).contains("id=\"salesperson-form\""))
            let refused = try await issuer.post("/admin/network/salespeople", [("csrf", Browser.hidden("csrf", in: try await issuer.get("/admin")) ?? ""),
                                                                              ("action", "add"), ("site", "DE-10001"), ("salesperson", "SP-8")])
            #expect(refused.status == .forbidden)
        }
    }

    @Test("an approved proposal without a result ten minutes on (the service stopped while applying it) is applied again by a second person", arguments: StoreBackend.all)
    func applyAfterStop(backend: StoreBackend) async throws {
        let clock = SettableClock(TestService.now)
        let service = try await TestService(backend, clock: clock)
        let second = try await service.services.store.createAPIKey(role: .issuer, dealer: nil, label: "second", actor: "test", at: TestService.now)
        try await service.app.test(.router) { client in
            let sale = try await NetworkTests.sell(client, service.dealer1, vin: Self.vin, feature: "NAV_PLUS", order: "stop-1")
            let id = try #require(sale["id"] as? String)
            var first = Browser(client: client), other = Browser(client: client)
            _ = try await Self.signIn(&first, service.issuer)
            let page = try await first.get("/admin/proposals")
            _ = try await first.post("/admin/proposals", [("csrf", Browser.hidden("csrf", in: page) ?? ""), ("kind", "bulk_revoke"), ("vins", Self.vin),
                                                          ("reason", "recall"), ("comment", "stopped")])
            let proposal = try #require(try await service.services.store.proposals(limit: 1).first)
            // Approved, and the service stopped before applying it.
            _ = try await service.services.store.decideProposal(id: proposal.id, approve: true, by: "key:\(second.record.id)", name: "API key \(second.record.id)",
                                                                actor: "issuer:person:key:\(second.record.id)", at: TestService.now)
            _ = try await Self.signIn(&other, second.secret)
            #expect(!String(buffer: try await other.get("/admin/proposals").body).contains("id=\"apply-\(proposal.id)\""), "not while it may still be applying")
            clock.set(TestService.now + 601)
            _ = try await Self.signIn(&other, second.secret)
            let later = try await other.get("/admin/proposals")
            #expect(String(buffer: later.body).contains("id=\"apply-\(proposal.id)\""))
            let applied = try await other.post("/admin/proposals/\(proposal.id)/apply", [("csrf", Browser.hidden("csrf", in: later) ?? "")])
            #expect(applied.status == .seeOther, "\(String(buffer: applied.body))")
            let entitlement = try await NetworkTests.send(client, service.issuer, .get, "/v1/entitlements/\(id)", "", status: .ok)
            #expect(entitlement["revoked_at"] != nil && !(entitlement["revoked_at"] is NSNull))
            #expect(try await service.services.store.proposal(id: proposal.id)?.result == "revoked 1 entitlement(s) of 1 vehicle(s)")
        }
    }

    @Test("an audit search without a subject reads a bounded window of the log and goes on from where it stopped; a subject is searched in the whole log",
          arguments: StoreBackend.all)
    func auditWindow(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        let store = service.services.store
        for index in 0..<15 { _ = try await store.createAPIKey(role: .auditor, dealer: nil, label: "k\(index)", actor: "test", at: TestService.now) }
        let all = try await store.auditEntries(after: 0, limit: 10_000)
        let newest = try #require(all.last).seq
        #expect(all.count > 12, "the fixtures' import wrote entries")
        let first = try await store.searchAudit(subject: nil, actor: nil, action: nil, from: nil, to: nil, before: nil, window: 5, limit: 100)
        #expect(first.entries.map(\.seq) == Array((newest - 4)...newest).reversed() && first.searchedFrom == newest - 4, "\(first.entries.map(\.seq))")
        let next = try await store.searchAudit(subject: nil, actor: nil, action: nil, from: nil, to: nil, before: first.searchedFrom, window: 5, limit: 100)
        #expect(next.entries.map(\.seq) == Array((newest - 9)...(newest - 5)).reversed() && next.searchedFrom == newest - 9)
        let rest = try await store.searchAudit(subject: nil, actor: nil, action: nil, from: nil, to: nil, before: nil, window: newest + 10, limit: 10_000)
        #expect(rest.entries.count == all.count && rest.searchedFrom == nil, "a window past the first entry searches the whole log")
        let oldest = try #require(all.first)
        let bySubject = try await store.searchAudit(subject: oldest.subject, actor: nil, action: nil, from: nil, to: nil, before: nil, window: nil, limit: 100)
        #expect(bySubject.entries.contains { $0.seq == oldest.seq } && bySubject.searchedFrom == nil)
    }

    @Test("four eyes: one person proposes a bulk revocation of three vehicles and cannot approve it; a second approves; all three are revoked in the second's name; a proposal past its three days cannot be approved",
          arguments: StoreBackend.all)
    func bulkRevocation(backend: StoreBackend) async throws {
        let clock = SettableClock(TestService.now)
        let service = try await TestService(backend, clock: clock)
        let second = try await service.services.store.createAPIKey(role: .issuer, dealer: nil, label: "second", actor: "test", at: TestService.now)
        let vins = ["WAUZZZF45RA000001", "WAUZZZFY7P2000002", "3VWD07AJ5EM388202"]
        try await service.app.test(.router) { client in
            var ids: [String] = []
            for (index, vin) in vins.enumerated() {
                let sale = try await NetworkTests.sell(client, service.dealer1, vin: vin, feature: "NAV_PLUS", order: "bulk-\(index)")
                ids.append(try #require(sale["id"] as? String))
            }
            var first = Browser(client: client), other = Browser(client: client)
            _ = try await Self.signIn(&first, service.issuer)
            _ = try await Self.signIn(&other, second.secret)
            var page = try await first.get("/admin/proposals")
            let made = try await first.post("/admin/proposals", [("csrf", Browser.hidden("csrf", in: page) ?? ""), ("kind", "bulk_revoke"),
                                                                ("vins", vins.joined(separator: "\n")), ("reason", "recall"), ("comment", "recall 26-04")])
            #expect(made.status == .seeOther, "\(String(buffer: made.body))")
            let proposal = try #require(try await service.services.store.proposals(limit: 5).first)
            #expect(proposal.vins.map(\.value) == vins && proposal.status(at: TestService.now) == .open)

            page = try await first.get("/admin/proposals")
            let own = try await first.post("/admin/proposals/\(proposal.id)/approve", [("csrf", Browser.hidden("csrf", in: page) ?? "")])
            #expect(own.status == .forbidden && String(buffer: own.body).contains("proposal_own"))
            let stillLive = try await NetworkTests.send(client, service.issuer, .get, "/v1/entitlements/\(ids[0])", "", status: .ok)
            #expect(stillLive["revoked_at"] is NSNull || stillLive["revoked_at"] == nil, "nothing happens before a second person approves")

            let otherPage = try await other.get("/admin/proposals")
            let approved = try await other.post("/admin/proposals/\(proposal.id)/approve", [("csrf", Browser.hidden("csrf", in: otherPage) ?? "")])
            #expect(approved.status == .seeOther, "\(String(buffer: approved.body))")
            for id in ids {
                let entitlement = try await NetworkTests.send(client, service.issuer, .get, "/v1/entitlements/\(id)", "", status: .ok)
                #expect(entitlement["revoked_at"] != nil && !(entitlement["revoked_at"] is NSNull), "\(id) revoked")
            }
            let decided = try #require(try await service.services.store.proposal(id: proposal.id))
            #expect(decided.storedStatus == .approved && decided.result == "revoked 3 entitlement(s) of 3 vehicle(s)")
            let again = try await other.post("/admin/proposals/\(proposal.id)/approve", [("csrf", Browser.hidden("csrf", in: otherPage) ?? "")])
            #expect(again.status == .conflict, "decided once")
            let audit = try await client.execute(uri: "/v1/audit?after=0&limit=1000", method: .get, headers: headers(service.auditor)) { try json($0) }
            let entries = audit["entries"] as? [[String: Any]] ?? []
            let create = entries.first { $0["action"] as? String == "proposal.create" }, approve = entries.first { $0["action"] as? String == "proposal.approve" }
            #expect((create?["actor"] as? String)?.contains("person:key:") == true && (approve?["actor"] as? String)?.contains(second.record.id) == true,
                    "\(create ?? [:]) \(approve ?? [:])")
            #expect(entries.filter { $0["action"] as? String == "entitlement.revoke" && ($0["actor"] as? String)?.contains(second.record.id) == true }.count == 3)

            // A bulk transfer (a fleet sold): the same four eyes; each vehicle's change of owner in the approver's name.
            page = try await first.get("/admin/proposals")
            let noKind = try await first.post("/admin/proposals", [("csrf", Browser.hidden("csrf", in: page) ?? ""), ("vins", vins[1]), ("reason", "fleet_sale"),
                                                                   ("comment", "x")])
            #expect(noKind.status == .unprocessableContent)
            _ = try await first.post("/admin/proposals", [("csrf", Browser.hidden("csrf", in: page) ?? ""), ("kind", "bulk_transfer"),
                                                          ("vins", vins[1] + " " + vins[2]), ("reason", "fleet_sale"), ("comment", "fleet sold to Example GmbH")])
            let fleet = try #require(try await service.services.store.proposals(limit: 5).first { $0.kind == .bulkTransfer })
            let fleetPage = try await other.get("/admin/proposals")
            _ = try await other.post("/admin/proposals/\(fleet.id)/approve", [("csrf", Browser.hidden("csrf", in: fleetPage) ?? "")])
            #expect(try await service.services.store.proposal(id: fleet.id)?.result?.hasPrefix("transferred 2 vehicle(s)") == true)
            let afterTransfer = try await client.execute(uri: "/v1/audit?after=0&limit=1000", method: .get, headers: headers(service.auditor)) { try json($0) }
            #expect((afterTransfer["entries"] as? [[String: Any]] ?? []).filter {
                $0["action"] as? String == "vehicle.transfer" && ($0["actor"] as? String)?.contains(second.record.id) == true
            }.count == 2)

            // A proposal waits three days, not more.
            page = try await first.get("/admin/proposals")
            _ = try await first.post("/admin/proposals", [("csrf", Browser.hidden("csrf", in: page) ?? ""), ("kind", "bulk_revoke"), ("vins", vins[0]), ("reason", "other"),
                                                          ("comment", "late")])
            let late = try #require(try await service.services.store.proposals(limit: 5).first { $0.comment == "late" })
            clock.set(TestService.now + Proposal.lifetime + 1)
            #expect(try await other.get("/admin/proposals").headers[.location] == "/admin/login", "three days on, the session has ended too")
            _ = try await Self.signIn(&other, second.secret)
            let expiredPage = try await other.get("/admin/proposals")
            let expired = try await other.post("/admin/proposals/\(late.id)/approve", [("csrf", Browser.hidden("csrf", in: expiredPage) ?? "")])
            #expect(expired.status == .conflict && String(buffer: expired.body).contains("proposal_expired"))
        }
    }
}
