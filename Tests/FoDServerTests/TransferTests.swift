import FoDCore
import FoDEntitlements
import FoDServer
import FoDStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Change of owner")
struct TransferTests {
    static let vin = "WAUZZZF45RA000001"

    @Test("entitlements stay with the VIN; a feature marked transferable: false ends at the transfer (re-signed, or revoked if it would start later); a new manifest version; commissions untouched",
          arguments: StoreBackend.all)
    func transfer(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await service.app.test(.router) { client in
            func activate(_ body: String, _ key: String) async throws -> [String: Any] {
                try await client.execute(uri: "/v1/activations", method: .post, headers: headers(service.dealer1, idempotency: key),
                                         body: ByteBuffer(string: body)) { response async throws in
                    #expect(response.status == .created, "\(String(buffer: response.body))")
                    return try json(response)
                }
            }
            func manifestVersion() async throws -> Int64 {
                try await client.execute(uri: "/v1/vehicles/\(Self.vin)/manifest", method: .get, headers: headers(service.issuer)) { response async throws in
                    try json(response)["version"] as? Int64 ?? -1
                }
            }
            let nav = try await activate(#"{"vin":"\#(Self.vin)","feature":"NAV_PLUS","term":"P1Y"}"#, "t-1")
            let power = try await activate(#"{"vin":"\#(Self.vin)","feature":"MORE_POWER","term":"P1M"}"#, "t-2")
            let later = try await activate(#"{"vin":"\#(Self.vin)","feature":"MORE_POWER","term":"P1M","extend":true}"#, "t-3")
            let before = try await manifestVersion()
            #expect(try await manifestVersion() == before, "unchanged: the same version")

            let effective = TestService.now + 86_400
            let body = #"{"effective_at":"\#(Instant(unixSeconds: effective).rfc3339)"}"#
            try await client.execute(uri: "/v1/vehicles/\(Self.vin)/transfer", method: .post, headers: headers(service.dealer1), body: ByteBuffer(string: body)) { response async throws in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/v1/vehicles/\(Self.vin)/transfer", method: .post, headers: headers(service.issuer), body: ByteBuffer(string: body)) { response async throws in
                #expect(response.status == .ok)
                let answer = try json(response)
                #expect(answer["ended"] as? [String] == [power["id"] as? String ?? ""])
                #expect(answer["revoked"] as? [String] == [later["id"] as? String ?? ""])
            }
            try await client.execute(uri: "/v1/vehicles/\(Self.vin)/transfer", method: .post, headers: headers(service.issuer), body: ByteBuffer(string: body)) { response async throws in
                #expect(try json(response)["code"] as? String == "transfer_recorded")
            }
            // MORE_POWER now ends at the transfer, in a token that says so; NAV_PLUS is as it was.
            let listed = try await client.execute(uri: "/v1/vehicles/\(Self.vin)/entitlements", method: .get, headers: headers(service.issuer)) { response async throws in
                try json(response)["entitlements"] as? [[String: Any]] ?? []
            }
            let ended = try #require(listed.first { $0["id"] as? String == power["id"] as? String })
            #expect(ended["expires_at"] as? Int64 == effective)
            let claims = try await service.services.verifyEntitlement(try #require(ended["token"] as? String), vin: try VIN(Self.vin))
            #expect(claims.expiresAt == effective)
            #expect(listed.first { $0["id"] as? String == nav["id"] as? String }?["expires_at"] as? Int64 == nav["expires_at"] as? Int64)
            #expect(listed.first { $0["id"] as? String == later["id"] as? String }?["revoked_at"] is Int64)
            #expect(try await manifestVersion() > before, "a new manifest version")
            // Commissions already earned stay: three activations, no refund.
            let events = try await PurchaseFlowTests.events(client, service)
            #expect(events.filter { $0["kind"] == "activation" }.count == 3 && events.filter { $0["kind"] == "refund" }.isEmpty)
            try await client.execute(uri: "/v1/audit", method: .get, headers: headers(service.auditor)) { response async throws in
                #expect(String(buffer: response.body).contains("vehicle.transfer"))
            }
        }
    }
}
