import FoDCore
import FoDEntitlements
import FoDServer
import FoDStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import ServiceLifecycle
import Testing

/// Subscriptions: renewed before they end as sales like the first, once per period however many
/// runs go at once; cancelled to the end of the paid period; what is about to end.
@Suite("Subscription renewals, cancellation, expiring soon")
struct RenewalTests {
    static let online = "WAUZZZF45RA000001", counter = "3VWD07AJ5EM388202"

    @Test("the renewal job of fod serve renews at its first run and stops at once on graceful shutdown, between runs")
    func job() async throws {
        let clock = SettableClock(TestService.now)
        let service = try await TestService(clock: clock)
        let bought = try await service.app.test(.router) { client in
            try await client.execute(uri: "/v1/purchases", method: .post, headers: headers(service.issuer),
                                     body: ByteBuffer(string: PurchaseFlowTests.purchase(order: "J-1", feature: "ACC", term: "subscription", gross: 2_499))) { response async throws in
                try json(response)["expires_at"] as? Int64 ?? 0
            }
        }
        clock.set(bought - 86_400)
        let job = RenewalJob(services: service.services, lead: 3 * 86_400, interval: .seconds(300), logger: Logger(label: "test"))
        let group = ServiceGroup(configuration: .init(services: [.init(service: job)], logger: Logger(label: "test")))
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var renewed = false
            for _ in 0..<100 where !renewed {
                try await Task.sleep(for: .milliseconds(50))
                renewed = try await service.services.store.entitlements(of: try VIN(PurchaseFlowTests.vin)).count == 2
            }
            #expect(renewed, "the first run renewed the subscription")
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(ContinuousClock.now - started < .seconds(10), "stopped without waiting out the 300 s interval")
    }

    @Test("two runs at once book each period once, credited like the first sale; a cancelled subscription ends; renewals are listed and cannot be withdrawn",
          arguments: StoreBackend.all)
    func renewals(backend: StoreBackend) async throws {
        let clock = SettableClock(TestService.now)
        let service = try await TestService(backend, clock: clock)
        try await service.app.test(.router) { client in
            func post(_ uri: String, _ key: String, _ body: String, idempotency: String? = nil) async throws -> (HTTPResponse.Status, [String: Any]) {
                try await client.execute(uri: uri, method: .post, headers: headers(key, idempotency: idempotency), body: ByteBuffer(string: body)) { response async throws in
                    (response.status, try json(response))
                }
            }
            func get(_ uri: String, _ key: String) async throws -> [String: Any] {
                try await client.execute(uri: uri, method: .get, headers: headers(key)) { response async throws in try json(response) }
            }
            // Bought online (credited to DE-10001, the servicing dealer), and at DE-10002's counter.
            let (bought, first) = try await post("/v1/purchases", service.issuer, PurchaseFlowTests.purchase(order: "SUB-1", feature: "ACC", term: "subscription", gross: 2_499))
            #expect(bought == .created && first["dealer"] as? String == "DE-10001")
            let (sold, second) = try await post("/v1/activations", service.dealer2, #"{"vin":"\#(Self.counter)","feature":"ACC","term":"subscription"}"#, idempotency: "sub-2")
            #expect(sold == .created)
            let onlineID = try #require(first["id"] as? String), counterID = try #require(second["id"] as? String)
            let end = try #require(first["expires_at"] as? Int64)
            // The servicing dealer of the online car changes before the renewal.
            let (assigned, _) = try await client.execute(uri: "/v1/vehicles/\(Self.online)/dealer", method: .put, headers: headers(service.issuer),
                                                         body: ByteBuffer(string: #"{"dealer_id":"DE-10002","from":"\#(Instant(unixSeconds: TestService.now + 86_400).rfc3339)"}"#)) { response async throws in
                (response.status, 0)
            }
            #expect(assigned == .ok)

            // Nothing is due a week before the end.
            clock.set(end - 7 * 86_400)
            #expect(try await RenewalService(services: service.services).run(lead: 3 * 86_400).renewed == 0)
            // Two days before: two runs at once book each subscription once.
            clock.set(end - 2 * 86_400)
            async let one = RenewalService(services: service.services).run(lead: 3 * 86_400)
            async let two = RenewalService(services: service.services).run(lead: 3 * 86_400)
            let (a, b) = try await (one, two)
            #expect(a.renewed + b.renewed == 2 && a.skipped.isEmpty && b.skipped.isEmpty, "\(a) \(b)")
            #expect(try await RenewalService(services: service.services).run(lead: 3 * 86_400).renewed == 0)

            let events = try await PurchaseFlowTests.events(client, service).filter { $0["kind"] == "activation" }
            #expect(events.count == 4)
            let renewals = events.filter { $0["occurred_at"] == Instant(unixSeconds: end - 2 * 86_400).rfc3339 }
            #expect(renewals.map { "\($0["vin"] ?? "") \($0["channel"] ?? "") \($0["dealer_id"] ?? "") \($0["gross_minor"] ?? "")" }.sorted()
                    == ["\(Self.counter) dealer DE-10002 2499", "\(Self.online) online DE-10002 2499"], "online: the servicing dealer at renewal; counter: the seller")
            let next = try #require((try await get("/v1/vehicles/\(Self.online)/entitlements", service.issuer)["entitlements"] as? [[String: Any]])?
                .first { $0["id"] as? String != onlineID })
            #expect(next["not_before"] as? Int64 == end && next["term"] as? String == "subscription")
            #expect(next["expires_at"] as? Int64 == Term.subscription.end(startingAt: end))
            let nextID = try #require(next["id"] as? String)
            // The renewal's token verifies (from its start) and is not a new contract.
            let (withdrawn, refusal) = try await post("/v1/entitlements/\(nextID)/withdraw", service.issuer, "{}")
            #expect(withdrawn == .unprocessableContent && refusal["code"] as? String == "withdrawal_not_applicable")

            // Cancelling through the first period's id cancels the newest period; it then ends.
            let (cancelled, answer) = try await post("/v1/entitlements/\(onlineID)/cancel", service.issuer, "{}")
            #expect(cancelled == .ok && answer["id"] as? String == nextID && answer["ends_at"] as? Int64 == next["expires_at"] as? Int64)
            #expect(try await post("/v1/entitlements/\(onlineID)/cancel", service.issuer, "{}").0 == .conflict)
            #expect(try await post("/v1/entitlements/\(counterID)/cancel", service.dealer1, "{}").0 == .notFound, "another dealer's sale")
            let (_, fixed) = try await post("/v1/activations", service.dealer1, #"{"vin":"\#(Self.online)","feature":"NAV_PLUS","term":"P1M"}"#, idempotency: "fixed-1")
            let fixedID = try #require(fixed["id"] as? String)
            #expect(try await post("/v1/entitlements/\(fixedID)/cancel", service.dealer1, "{}").1["code"] as? String == "not_a_subscription")

            // What ends within 60 days and does not go on: the cancelled subscription and the month's
            // NAV_PLUS; the counter subscription renews, so it is not listed.
            let listed = (try await get("/v1/entitlements?expiring_within=P60D", service.auditor)["entitlements"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            #expect(Set(listed) == Set([nextID, fixedID]))
            let mine = (try await get("/v1/entitlements?expiring_within=P60D", service.dealer1)["entitlements"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            #expect(mine == [fixedID], "a dealer sees its own")
            try await client.execute(uri: "/v1/entitlements?expiring_within=14", method: .get, headers: headers(service.issuer)) { response async throws in
                #expect(response.status == .badRequest)
            }

            // At the next period's end only the counter subscription goes on.
            clock.set(try #require(next["expires_at"] as? Int64) - 86_400)
            #expect(try await RenewalService(services: service.services).run(lead: 3 * 86_400).renewed == 1)
            let after = try await PurchaseFlowTests.events(client, service).filter { $0["kind"] == "activation" && $0["feature"] == "ACC" }
            #expect(after.filter { $0["vin"] == Self.online }.count == 2 && after.filter { $0["vin"] == Self.counter }.count == 3)
        }
    }

    @Test("what ends within a window is listed a page at a time, soonest first, each once; a page's size and cursor are checked",
          arguments: StoreBackend.all)
    func expiringPages(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await service.app.test(.router) { client in
            for (index, vin) in ["WAUZZZFY7P2000002", "WAUZZZF45RA000001", "3VWD07AJ5EM388202"].enumerated() {
                try await client.execute(uri: "/v1/purchases", method: .post, headers: headers(service.issuer),
                                         body: body(PurchaseFlowTests.purchase(order: "X-\(index)", term: "P1M", gross: 1_490, vin: vin))) { #expect($0.status == .created) }
            }
            func page(_ query: String) async throws -> (HTTPResponse.Status, [String: Any]) {
                try await client.execute(uri: "/v1/entitlements?expiring_within=P40D" + query, method: .get, headers: headers(service.auditor)) {
                    ($0.status, try json($0))
                }
            }
            let (status, first) = try await page("&limit=2")
            let ids = (first["entitlements"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            let next = try #require(first["next"] as? String)
            #expect(status == .ok && ids.count == 2)
            let (_, second) = try await page("&limit=2&after=\(next)")
            let rest = (second["entitlements"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            #expect(rest.count == 1 && second["next"] == nil && Set(ids + rest).count == 3)
            let (_, whole) = try await page("")
            #expect((whole["entitlements"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String } == ids + rest, "the pages are the list")
            for bad in ["&limit=0", "&limit=1001", "&after=x", "&after=12~%20"] {
                let (refused, problem) = try await page(bad)
                #expect(refused == .badRequest && problem["code"] as? String == "query_invalid", "\(bad)")
            }
        }
    }
}
