import FoDAPI
import FoDCore
import FoDEntitlements
@testable import FoDServer
import FoDStore
import FoDTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// The car reports back (docs/vehicle-sdk.md): what it has beside what it was issued, and an event
/// when they differ.
@Suite("Vehicle state reports")
struct VehicleStateTests {
    static let vin = "WAUZZZF45RA000001"

    static func report(_ client: some TestClientProtocol, _ key: String, _ text: String, status: HTTPResponse.Status = .ok,
                       code: String? = nil, vin: String = vin) async throws -> [String: Any] {
        try await NetworkTests.send(client, key, .post, "/v1/vehicles/\(vin)/state", text, status: status, code: code)
    }

    @Test("a car in sync raises nothing; one missing a feature, or enabling one it was not sold, or behind on its manifest, raises one event per new mismatch; roles and bad input are refused",
          arguments: StoreBackend.all)
    func reports(backend: StoreBackend) async throws {
        let clock = SettableClock(TestService.now)
        let service = try await TestService(backend, clock: clock)
        try await service.app.test(.router) { client in
            _ = try await NetworkTests.sell(client, service.dealer1, vin: Self.vin, feature: "NAV_PLUS", order: "state-1")
            // Within the minute after a sale the car may not have it yet: neither missing nor unexpected.
            var answer = try await Self.report(client, service.issuer, #"{"enabled":[]}"#)
            #expect(answer["missing"] as? [String] == [] && answer["event_raised"] as? Bool == false)
            clock.set(TestService.now + 120)
            let manifest = try await NetworkTests.send(client, service.issuer, .get, "/v1/vehicles/\(Self.vin)/manifest", "", status: .ok)
            let version = try #require(manifest["version"] as? Int)
            answer = try await Self.report(client, service.issuer, #"{"manifest_version":\#(version),"root_version":1,"enabled":["NAV_PLUS"]}"#)
            #expect(answer["in_sync"] as? Bool == true && answer["event_raised"] as? Bool == false && answer["manifest_behind"] as? Bool == false)
            #expect(answer["current_manifest_version"] as? Int == version)

            // Missing: the car did not apply what it was sold.
            answer = try await Self.report(client, service.issuer, #"{"manifest_version":\#(version),"enabled":[]}"#)
            #expect(answer["missing"] as? [String] == ["NAV_PLUS"] && answer["in_sync"] as? Bool == false && answer["event_raised"] as? Bool == true)
            answer = try await Self.report(client, service.issuer, #"{"manifest_version":\#(version),"enabled":[]}"#)
            #expect(answer["event_raised"] as? Bool == false, "the same mismatch again raises no second event")
            // Unexpected: a feature it was never sold, on an older manifest.
            answer = try await Self.report(client, service.issuer, #"{"manifest_version":\#(version - 1 > 0 ? version - 1 : 1),"enabled":["NAV_PLUS","MORE_POWER"]}"#)
            #expect(answer["unexpected"] as? [String] == ["MORE_POWER"] && answer["missing"] as? [String] == [] && answer["event_raised"] as? Bool == true)
            // Back in sync, then the same mismatch as before is new again.
            _ = try await Self.report(client, service.issuer, #"{"manifest_version":\#(version),"enabled":["NAV_PLUS"]}"#)
            answer = try await Self.report(client, service.issuer, #"{"manifest_version":\#(version),"enabled":[]}"#)
            #expect(answer["event_raised"] as? Bool == true)

            let events = try await client.execute(uri: "/v1/events?limit=1000", method: .get, headers: headers(service.auditor)) { try json($0) }
            let mismatches = (events["events"] as? [[String: Any]] ?? []).filter { $0["type"] as? String == "vehicle.state_mismatch" }
            #expect(mismatches.count == 3, "\(mismatches)")
            let first = mismatches.first?["data"] as? [String: Any] ?? [:]
            #expect(first["vin"] as? String == Self.vin && first["missing"] as? [String] == ["NAV_PLUS"] && first["enabled"] as? [String] == []
                    && first["current_manifest_version"] as? Int == version && first["manifest_version"] as? Int == version)
            let second = mismatches.dropFirst().first?["data"] as? [String: Any] ?? [:]
            #expect(second["unexpected"] as? [String] == ["MORE_POWER"] && second["root_version"] is NSNull)
            let feed = try await client.execute(uri: "/v1/events?limit=1000", method: .get, headers: headers(service.dealer1)) { try json($0) }
            #expect((feed["events"] as? [[String: Any]] ?? []).contains { $0["type"] as? String == "vehicle.state_mismatch" },
                    "the servicing dealer's feed has it")

            // Roles and input.
            _ = try await Self.report(client, service.dealer1, #"{"enabled":[]}"#, status: .forbidden)
            _ = try await Self.report(client, service.auditor, #"{"enabled":[]}"#, status: .forbidden)
            _ = try await Self.report(client, service.issuer, #"{"enabled":[]}"#, status: .notFound, code: "vehicle_not_found", vin: "WDDCAR00000000099")
            _ = try await Self.report(client, service.issuer, #"{"enabled":["nav"]}"#, status: .unprocessableContent, code: "feature_invalid")
            _ = try await Self.report(client, service.issuer, #"{"enabled":["ACC","ACC"]}"#, status: .unprocessableContent, code: "request_invalid")
            _ = try await Self.report(client, service.issuer, #"{"manifest_version":0,"enabled":[]}"#, status: .unprocessableContent, code: "request_invalid")
            _ = try await Self.report(client, service.issuer, #"{"root_version":9007199254740992,"enabled":[]}"#, status: .unprocessableContent, code: "request_invalid")
            _ = try await Self.report(client, service.issuer, #"{"enabled":[],"extra":1}"#, status: .unprocessableContent, code: "field_unknown")
        }
    }

    @Test("a revoked entitlement the car still has enabled is unexpected, with its manifest behind")
    func revoked() async throws {
        let clock = SettableClock(TestService.now)
        let service = try await TestService(.sqlite, clock: clock)
        try await service.app.test(.router) { client in
            let sale = try await NetworkTests.sell(client, service.dealer1, vin: Self.vin, feature: "NAV_PLUS", order: "state-r")
            let id = try #require(sale["id"] as? String)
            clock.set(TestService.now + 120)
            let manifest = try await NetworkTests.send(client, service.issuer, .get, "/v1/vehicles/\(Self.vin)/manifest", "", status: .ok)
            let version = try #require(manifest["version"] as? Int)
            _ = try await NetworkTests.send(client, service.admin, .post, "/v1/entitlements/\(id)/revoke", #"{"reason":"fraud"}"#, status: .ok)
            _ = try await NetworkTests.send(client, service.issuer, .get, "/v1/vehicles/\(Self.vin)/manifest", "", status: .ok)
            let answer = try await Self.report(client, service.issuer, #"{"manifest_version":\#(version),"enabled":["NAV_PLUS"]}"#)
            #expect(answer["unexpected"] as? [String] == ["NAV_PLUS"] && answer["manifest_behind"] as? Bool == true, "\(answer)")
        }
    }
}
