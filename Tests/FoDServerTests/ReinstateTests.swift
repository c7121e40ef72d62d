import FoDEntitlements
import FoDServer
import FoDStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Revocation undone")
struct ReinstateTests {
    @Test("a revocation is undone with a reason: the token verifies again, here at once and on another instance within a second; refunds stay refunded",
          arguments: StoreBackend.all)
    func reinstate(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        let other = try await FoDServices(store: try await service.database.reopen(), signing: service.services.signing, catalog: service.services.catalog,
                                          rules: service.services.rules, clock: service.services.clock)
        let vin = "WAUZZZF45RA000001"
        try await service.app.test(.router) { client in
            func post(_ uri: String, _ key: String, _ body: String) async throws -> (HTTPResponse.Status, String?) {
                try await client.execute(uri: uri, method: .post, headers: headers(key), body: ByteBuffer(string: body)) { response async throws in
                    (response.status, try json(response)["code"] as? String)
                }
            }
            let issued = try await client.execute(uri: "/v1/entitlements", method: .post, headers: headers(service.issuer),
                                                  body: ByteBuffer(string: #"{"vin":"\#(vin)","feature":"ACC","term":"P1M"}"#)) { response async throws in
                try json(response)
            }
            let id = try #require(issued["id"] as? String), token = try #require(issued["token"] as? String)
            let verify = #"{"token":"\#(token)"}"#
            #expect(try await post("/v1/entitlements/\(id)/reinstate", service.issuer, #"{"reason":"x"}"#).1 == "not_revoked")
            #expect(try await post("/v1/entitlements/\(id)/revoke", service.issuer, #"{"reason":"suspected fraud"}"#).0 == .ok)
            #expect(try await post("/v1/verify", service.issuer, verify).1 == "revoked")
            try await Task.sleep(nanoseconds: 1_300_000_000)
            await #expect(throws: EntitlementError(.revoked, ""), "the other instance has seen the revocation") { try await other.verifyEntitlement(token) }
            #expect(try await post("/v1/entitlements/\(id)/reinstate", service.dealer1, #"{"reason":"x"}"#).0 == .forbidden)
            #expect(try await post("/v1/entitlements/\(id)/reinstate", service.issuer, #"{"reason":""}"#).1 == "field_missing")
            #expect(try await post("/v1/entitlements/\(id)/reinstate", service.issuer, #"{"reason":"fraud check cleared"}"#).0 == .ok)
            #expect(try await post("/v1/verify", service.issuer, verify).0 == .ok, "valid again at once on this instance")
            try await Task.sleep(nanoseconds: 1_300_000_000)
            #expect(try await other.verifyEntitlement(token).id.value == id, "and on another instance within a second")
            let manifest = try await client.execute(uri: "/v1/vehicles/\(vin)/manifest", method: .get, headers: headers(service.issuer)) { response async throws in
                try json(response)["manifest"] as? String ?? ""
            }
            let entries = try service.services.verifier.verifyManifest(manifest, vin: try VIN(vin), lastAcceptedVersion: nil).entitlements
            #expect(entries.map(\.id.value).contains(id), "the next manifest holds it again")
            try await client.execute(uri: "/v1/audit", method: .get, headers: headers(service.auditor)) { response async throws in
                #expect(String(buffer: response.body).contains("entitlement.reinstate"))
            }
            // A refund is not undone this way.
            let sold = try await client.execute(uri: "/v1/activations", method: .post, headers: headers(service.dealer1, idempotency: "r-1"),
                                                body: ByteBuffer(string: #"{"vin":"\#(vin)","feature":"NAV_PLUS","term":"P1M"}"#)) { response async throws in
                try json(response)["id"] as? String ?? ""
            }
            #expect(try await post("/v1/activations/\(sold)/refund", service.issuer, "{}").0 == .ok)
            #expect(try await post("/v1/entitlements/\(sold)/reinstate", service.issuer, #"{"reason":"x"}"#).1 == "refund_not_reinstatable")
        }
    }
}
