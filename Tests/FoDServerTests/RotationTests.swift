import FoDAPI
import FoDCore
import FoDCrypto
import FoDEntitlements
import FoDServer
import FoDStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Issuing-key rotation in the service")
struct RotationTests {
    static let issuerID = try! IssuerID("https://fod.test")

    /// Root `version` with `keys` as issuing keys, signed by `root`.
    static func root(_ version: Int64, _ keys: [IssuingKey], by root: PrivateKey) throws -> SignedRoot {
        try SignedRoot(unsigned: RootMetadata(issuer: issuerID, version: version, issuedAt: TestService.now, expiresAt: TestService.now + 365 * 86_400,
                                              threshold: 1, rootKeys: [TrustedKey(root.publicKey)], issuingKeys: keys)).signed(by: root)
    }

    @Test("B is published, then signs once its nbf passes, A retired: tokens verify or not as the vehicle's TrustStore says, manifests move to B, no request fails",
          arguments: StoreBackend.all)
    func rotation(backend: StoreBackend) async throws {
        let rootKey = try PrivateKey.generate(.es256), a = try PrivateKey.generate(.es256), b = try PrivateKey.generate(.edDSA)
        let now = TestService.now
        let keyA = IssuingKey(a.publicKey, scope: [.entitlement, .manifest, .time], notBefore: now - 60, notAfter: now + 300 * 86_400)
        let keyB = IssuingKey(b.publicKey, keyID: "hsm:b", scope: [.entitlement, .manifest, .time], notBefore: now + 100, notAfter: now + 300 * 86_400)
        let roots = [try Self.root(1, [keyA], by: rootKey), try Self.root(2, [keyA, keyB], by: rootKey), try Self.root(3, [keyB], by: rootKey)]
        let clock = SettableClock(now)
        let signing = try SigningKeys(roots: [roots[0]], keys: [a, b], issuer: Self.issuerID, clock: clock)
        let service = try await TestService(backend, clock: clock, signing: signing)
        let vin = try VIN("WAUZZZF45RA000001")

        try await service.app.test(.router) { client in
            func activate(_ feature: String) async throws -> String {
                try await client.execute(uri: "/v1/activations", method: .post, headers: headers(service.dealer1, idempotency: feature),
                                         body: body(#"{"vin":"\#(vin.value)","feature":"\#(feature)","term":"P1Y"}"#)) { response async throws in
                    #expect(response.status == .created, "\(feature): \(String(buffer: response.body))")
                    return try json(response)["token"] as? String ?? ""
                }
            }
            func verify(_ token: String) async throws -> (HTTPResponse.Status, String?) {
                try await client.execute(uri: "/v1/verify", method: .post, headers: headers(service.issuer),
                                         body: body(#"{"token":"\#(token)"}"#)) { response async throws in
                    (response.status, try json(response)["code"] as? String)
                }
            }
            func manifest() async throws -> String {
                try await client.execute(uri: "/v1/vehicles/\(vin.value)/manifest", method: .get, headers: headers(service.issuer)) { response async throws in
                    #expect(response.status == .ok)
                    return try json(response)["manifest"] as? String ?? ""
                }
            }
            func jwks() async throws -> Set<String> {
                try await client.execute(uri: "/.well-known/jwks.json", method: .get) { response async throws in
                    Set(try KeySet(jwksJSON: String(buffer: response.body)).keys.map(\.keyID))
                }
            }
            func kid(_ token: String) throws -> String {
                guard let first = token.split(separator: ".").first else { return "" }
                let header = try JSONParser.parse(try Base64URL.decode(String(first)))
                return header.object?["kid"]?.string ?? ""
            }

            let tokenA = try await activate("NAV_PLUS")
            let published1 = try await jwks()
            #expect(try kid(tokenA) == a.keyID && published1 == [a.keyID])
            let manifestA = try await manifest()
            // B published (not yet active): listed, not signing.
            #expect(try signing.update(with: Array(roots.prefix(2))))
            let published2 = try await jwks()
            #expect(published2 == [a.keyID, "hsm:b"])
            let stillA = try await activate("MATRIX_LED")
            #expect(try kid(stillA) == a.keyID)
            clock.set(now + 200)
            let tokenB = try await activate("PARK_ASSIST")
            #expect(try kid(tokenB) == "hsm:b", "B signs once its nbf has passed")
            let beforeRetirement = try await verify(tokenA)
            #expect(beforeRetirement.0 == .ok, "A's tokens verify until A is retired")
            // A retired.
            #expect(try signing.update(with: roots))
            let published3 = try await jwks()
            #expect(published3 == ["hsm:b"])
            let verifiedB = try await verify(tokenB), refusedA = try await verify(tokenA)
            #expect(verifiedB.0 == .ok)
            #expect(refusedA.0 == .unprocessableContent && refusedA.1 == "key_unknown")
            let manifestB = try await manifest()
            #expect(try kid(manifestB) == "hsm:b")

            // The vehicle pinned root 1 and fetches the others from the service.
            var published: [SignedRoot] = []
            for version in 1...3 {
                published.append(try await client.execute(uri: "/.well-known/fod/root/\(version).json", method: .get) { response async throws in
                    #expect(response.status == .ok)
                    return try SignedRoot(json: String(buffer: response.body))
                })
            }
            try await client.execute(uri: "/.well-known/fod/root/4.json", method: .get) { response async throws in
                let code = try json(response)["code"] as? String
                #expect(response.status == .notFound && code == "root_not_found")
            }
            var vehicle = try TrustStore(pinned: published[0])
            try vehicle.update(with: Array(published.dropFirst()), at: clock.unixSeconds())
            let verifier = Verifier(keys: try vehicle.keySet(at: clock.unixSeconds()), issuer: Self.issuerID, clock: clock)
            _ = try verifier.verifyEntitlement(tokenB, vin: vin)
            #expect(throws: EntitlementError(.keyUnknown, "")) { try verifier.verifyEntitlement(tokenA, vin: vin) }
            let held = try Verifier(keys: try TrustStore(pinned: published[0]).keySet(at: now), issuer: Self.issuerID, clock: FixedClock(unixSeconds: now))
                .verifyManifest(manifestA, vin: vin, lastAcceptedVersion: nil)
            let next = try verifier.verifyManifest(manifestB, vin: vin, lastAcceptedVersion: held.version)
            #expect(next.entitlements.map(\.id).contains(try EntitlementID(verifier.verifyEntitlement(tokenB, vin: vin).id.value)))
            #expect(next.entitlements.count == 3, "the manifest signed by B lists what A had signed")

            // What A signed is re-issued with B: the same claims, a token the vehicle accepts; once.
            let reissued = try await ReissueService(services: service.services).reissueRetired()
            #expect(reissued == 2)
            let again = try await ReissueService(services: service.services).reissueRetired()
            #expect(again == 0)
            let claimsA = try Verifier(keys: try TrustStore(pinned: published[0]).keySet(at: now), issuer: Self.issuerID, clock: FixedClock(unixSeconds: now))
                .verifyEntitlement(tokenA, vin: vin)
            let stored = try #require(try await service.services.store.entitlement(claimsA.id))
            #expect(try kid(stored.token) == "hsm:b")
            #expect(try verifier.verifyEntitlement(stored.token, vin: vin) == claimsA)
            let verifiedNew = try await verify(stored.token)
            #expect(verifiedNew.0 == .ok)

            // Each root version taken is recorded once, as a keys.rotated event with its issuing keys (no key material).
            let record = try #require(signing.rootRecord)
            #expect(record.version == 3 && record.keys.map(\.kid) == ["hsm:b"])
            #expect(try await service.services.store.recordRootVersion(record, at: clock.unixSeconds()))
            #expect(try await !service.services.store.recordRootVersion(record, at: clock.unixSeconds()), "once per version")
            let events = try await service.services.store.events(after: 0, limit: 1000, dealer: nil).filter { $0.type == "keys.rotated" }
            #expect(events.count == 1)
            let data = try JSONSerialization.jsonObject(with: Data(try #require(events.first).data.utf8)) as? [String: Any] ?? [:]
            #expect(data["root_version"] as? Int == 3)
            let keys = data["issuing_keys"] as? [[String: Any]] ?? []
            #expect(keys.count == 1 && keys[0]["kid"] as? String == "hsm:b" && (keys[0]["scope"] as? [String])?.count == 3
                    && keys[0]["not_before"] as? String == Instant(unixSeconds: now + 100).rfc3339 && keys[0]["x"] == nil)
            #expect(try await service.services.store.events(after: 0, limit: 1000, dealer: "DE-10001").allSatisfy { $0.type != "keys.rotated" },
                    "not in a dealer's feed")
        }
    }
}
