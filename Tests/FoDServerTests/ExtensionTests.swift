import FoDCore
import FoDEntitlements
import FoDServer
import FoDStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Extensions and upgrades")
struct ExtensionTests {
    static let vin = "WAUZZZF45RA000001"

    @Test("a fixed term is appended to the current end, as a priced sale; extensions at once never overlap; an upgrade to permanent starts now and ends extending",
          arguments: StoreBackend.all)
    func extensions(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await service.app.test(.router) { client in
            func activate(_ body: String, key: String) async throws -> (HTTPResponse.Status, [String: Any]) {
                try await client.execute(uri: "/v1/activations", method: .post, headers: headers(service.dealer1, idempotency: key),
                                         body: ByteBuffer(string: body)) { response async throws in (response.status, try json(response)) }
            }
            let order = { (term: String, extend: Bool) in
                #"{"vin":"\#(Self.vin)","feature":"NAV_PLUS","term":"\#(term)"\#(extend ? #","extend":true"# : "")}"#
            }
            let (nothing, refused) = try await activate(order("P1Y", true), key: "e-0")
            #expect(nothing == .unprocessableContent && refused["code"] as? String == "nothing_to_extend")
            let (_, first) = try await activate(order("P1M", false), key: "e-1")
            let end = try #require(first["expires_at"] as? Int64)
            let (extended, second) = try await activate(order("P1Y", true), key: "e-2")
            #expect(extended == .created)
            #expect(second["not_before"] as? Int64 == end && second["expires_at"] as? Int64 == Term.oneYear.end(startingAt: end))
            #expect((second["price"] as? [String: Any])?["gross_minor"] as? Int64 == 14_900)
            #expect(try await activate(order("trial", true), key: "e-3").1["code"] as? String == "extension_invalid")

            // Two extensions at once: booked one after the other, or the second refused — never overlapping.
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for key in ["e-4", "e-5"] {
                    let body = order("P1M", true)
                    group.addTask {
                        try await client.execute(uri: "/v1/activations", method: .post, headers: headers(service.dealer1, idempotency: key),
                                                 body: ByteBuffer(string: body)) { response async throws in response.status }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == .created || $0 == .conflict } && statuses.contains(.created), "\(statuses)")
            let periods = try await service.services.store.entitlements(of: try VIN(Self.vin)).filter { $0.claims.feature.value == "NAV_PLUS" }
                .map { ($0.claims.notBefore, $0.claims.expiresAt ?? .max) }.sorted { $0.0 < $1.0 }
            for (earlier, later) in zip(periods, periods.dropFirst()) { #expect(later.0 >= earlier.1, "\(periods)") }

            let events = try await PurchaseFlowTests.events(client, service).filter { $0["kind"] == "activation" && $0["feature"] == "NAV_PLUS" }
            #expect(events.count == periods.count && events.allSatisfy { $0["dealer_id"] == "DE-10001" && $0["channel"] == "dealer" })

            // The upgrade to permanent starts now; after it there is nothing to extend.
            let led = { (term: String, extend: Bool) in
                #"{"vin":"\#(Self.vin)","feature":"MATRIX_LED","term":"\#(term)"\#(extend ? #","extend":true"# : "")}"#
            }
            #expect(try await activate(led("P1M", false), key: "u-1").0 == .created)
            let (upgraded, permanent) = try await activate(led("permanent", true), key: "u-2")
            #expect(upgraded == .created && permanent["not_before"] as? Int64 == TestService.now && permanent["expires_at"] is NSNull)
            #expect((permanent["price"] as? [String: Any])?["gross_minor"] as? Int64 == 39_900)
            #expect(try await activate(led("P1M", true), key: "u-3").1["code"] as? String == "already_active")
        }
    }

    @Test("an online purchase extends too, credited to the servicing dealer", arguments: StoreBackend.all)
    func onlineExtension(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await service.app.test(.router) { client in
            for (order, extend) in [("X-1", false), ("X-2", true)] {
                let body = PurchaseFlowTests.purchase(order: order, feature: "MATRIX_LED", term: "P1M", gross: 1_900)
                    .replacingOccurrences(of: #""consent""#, with: extend ? #""extend":true,"consent""# : #""consent""#)
                try await client.execute(uri: "/v1/purchases", method: .post, headers: headers(service.issuer), body: ByteBuffer(string: body)) { response async throws in
                    #expect(response.status == .created, "\(String(buffer: response.body))")
                    #expect(try json(response)["dealer"] as? String == "DE-10001")
                }
            }
        }
    }
}
