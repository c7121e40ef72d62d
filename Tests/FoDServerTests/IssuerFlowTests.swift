import FoDCrypto
import FoDEntitlements
import FoDServer
import FoDStore
import FoDTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Issuer, refunds, manifests, exports and statements")
struct IssuerFlowTests {
    @Test("register, issue directly, revoke: the token then fails verification as revoked", arguments: StoreBackend.all)
    func issueAndRevoke(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await service.app.test(.router) { client in
            let vehicle = #"{"vin":"WBA12345678901234","model":"A6","model_year":2025,"market":"DE","equipment":["7UG"],"dealer_id":"DE-10002"}"#
            try await client.execute(uri: "/v1/vehicles", method: .post, headers: headers(service.dealer1), body: body(vehicle)) { response async throws in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/v1/vehicles", method: .post, headers: headers(service.issuer), body: body(vehicle)) { response async throws in
                #expect(response.status == .created)
            }
            try await client.execute(uri: "/v1/entitlements", method: .post, headers: headers(service.dealer1),
                                     body: body(#"{"vin":"WBA12345678901234","feature":"ACC","term":"P1M"}"#)) { response async throws in
                #expect(response.status == .forbidden, "a dealer cannot issue outside the activation flow")
            }
            var token = "", id = ""
            try await client.execute(uri: "/v1/entitlements", method: .post, headers: headers(service.issuer),
                                     body: body(#"{"vin":"WBA12345678901234","feature":"ACC","term":"P1M"}"#)) { response async throws in
                #expect(response.status == .created)
                let answer = try json(response)
                token = answer["token"] as? String ?? ""
                id = answer["id"] as? String ?? ""
            }
            try await client.execute(uri: "/v1/entitlements/\(id)/revoke", method: .post, headers: headers(service.issuer), body: body(#"{"reason":"fraud"}"#)) { response async throws in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/v1/entitlements/\(id)/revoke", method: .post, headers: headers(service.issuer), body: body(#"{"reason":"again"}"#)) { response async throws in
                #expect(response.status == .conflict)
            }
            try await client.execute(uri: "/v1/verify", method: .post, headers: headers(service.issuer), body: body(#"{"token":"\#(token)"}"#)) { response async throws in
                #expect(try json(response)["code"] as? String == "revoked")
            }
        }
    }

    @Test("a revocation written by another process on the same database is seen by verification within a second", arguments: StoreBackend.all)
    func revocationFromAnotherProcess(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        // The second process: its own connections to the same database.
        let other = try await service.database.reopen()
        try await service.app.test(.router) { client in
            var token = "", id = ""
            try await client.execute(uri: "/v1/entitlements", method: .post, headers: headers(service.issuer),
                                     body: body(#"{"vin":"WAUZZZF45RA000001","feature":"ACC","term":"P1M"}"#)) { response async throws in
                let answer = try json(response)
                token = answer["token"] as? String ?? ""
                id = answer["id"] as? String ?? ""
            }
            let verify = #"{"token":"\#(token)"}"#
            try await client.execute(uri: "/v1/verify", method: .post, headers: headers(service.issuer), body: body(verify)) { response async throws in
                #expect(response.status == .ok)
            }
            try await other.revoke(entitlement: try EntitlementID(id), reason: "by another process", actor: "test", at: TestService.now)
            try await Task.sleep(nanoseconds: 1_300_000_000)
            try await client.execute(uri: "/v1/verify", method: .post, headers: headers(service.issuer), body: body(verify)) { response async throws in
                #expect(try json(response)["code"] as? String == "revoked")
            }
        }
    }

    @Test("a refund revokes the entitlement; the next manifest drops it under a higher version; manifests verify", arguments: StoreBackend.all)
    func refundAndManifest(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        let vin = "WAUZZZF45RA000001"
        try await service.app.test(.router) { client in
            var ids: [String] = []
            for (index, feature) in ["NAV_PLUS", "ACC"].enumerated() {
                try await client.execute(uri: "/v1/activations", method: .post, headers: headers(service.dealer1, idempotency: "m\(index)"),
                                         body: body(#"{"vin":"\#(vin)","feature":"\#(feature)","term":"P1M"}"#)) { response async throws in
                    #expect(response.status == .created)
                    ids.append(try json(response)["id"] as? String ?? "")
                }
            }
            func manifest() async throws -> (Int, ManifestClaims) {
                try await client.execute(uri: "/v1/vehicles/\(vin)/manifest", method: .get, headers: headers(service.issuer)) { response async throws in
                    let answer = try json(response)
                    let claims = try service.services.verifier.verifyManifest(answer["manifest"] as? String ?? "", vin: try VIN(vin), lastAcceptedVersion: nil)
                    return (answer["version"] as? Int ?? 0, claims)
                }
            }
            let (v1, m1) = try await manifest()
            #expect(m1.entitlements.count == 2)
            let (again, _) = try await manifest()
            #expect(again == v1, "nothing changed, same version")
            try await client.execute(uri: "/v1/activations/\(ids[0])/refund", method: .post, headers: headers(service.dealer1)) { response async throws in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/v1/activations/\(ids[0])/refund", method: .post, headers: headers(service.issuer)) { response async throws in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/v1/activations/\(ids[0])/refund", method: .post, headers: headers(service.issuer)) { response async throws in
                #expect(response.status == .conflict)
            }
            let (v2, m2) = try await manifest()
            #expect(v2 == v1 + 1 && m2.entitlements.map(\.id.value) == [ids[1]])
            #expect(throws: EntitlementError(.manifestRollback, "")) {
                try service.services.verifier.verifyManifest(try service.services.signer(.entitlement).sign(m1), vin: try VIN(vin), lastAcceptedVersion: Int64(v2))
            }
        }
    }

    @Test("the events export is what fod report reads; statements come from the same engine; a dealer sees only its own", arguments: StoreBackend.all)
    func exportAndStatements(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await service.app.test(.router) { client in
            for (key, idempotency, vin) in [(service.dealer1, "s1", "WAUZZZF45RA000001"), (service.dealer2, "s2", "3VWD07AJ5EM388202")] {
                try await client.execute(uri: "/v1/activations", method: .post, headers: headers(key, idempotency: idempotency),
                                         body: body(#"{"vin":"\#(vin)","feature":"NAV_PLUS","term":"P1Y"}"#)) { response async throws in
                    #expect(response.status == .created)
                }
            }
            try await client.execute(uri: "/v1/exports/events", method: .get, headers: headers(service.dealer1)) { response async throws in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/v1/exports/events", method: .get, headers: headers(service.auditor)) { response async throws in
                let csv = String(buffer: response.body)
                #expect(csv.hasPrefix("event_id,occurred_at,kind,refers_to,vin,feature,term,channel,dealer_id,market,currency,gross_minor,vat_bps\n"))
                #expect(csv.split(separator: "\n").count == 3)
                #expect(csv.contains(",NAV_PLUS,P1Y,dealer,DE-10001,DE,EUR,14900,1900"))
            }
            try await client.execute(uri: "/v1/reports/statements?period=2026-11", method: .get, headers: headers(service.auditor)) { response async throws in
                let statements = try json(response)["statements"] as? [[String: Any]] ?? []
                #expect(statements.map { $0["dealer_id"] as? String } == ["DE-10001", "DE-10002"])
                // 149.00 at 19 %: net 125.21; rule pos-nav 12 % + 2.00 = 17.03.
                #expect(statements.first?["share"] as? String == "17.03")
            }
            try await client.execute(uri: "/v1/reports/statements?period=2026-11", method: .get, headers: headers(service.dealer2)) { response async throws in
                let statements = try json(response)["statements"] as? [[String: Any]] ?? []
                #expect(statements.map { $0["dealer_id"] as? String } == ["DE-10002"])
            }
            try await client.execute(uri: "/v1/reports/statements?period=2026-11&dealer=DE-10001", method: .get, headers: headers(service.dealer2)) { response async throws in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/v1/audit", method: .get, headers: headers(service.dealer1)) { response async throws in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/v1/audit", method: .get, headers: headers(service.auditor)) { response async throws in
                #expect((try json(response)["entries"] as? [[String: Any]])?.contains { $0["action"] as? String == "activation.create" } == true)
            }
        }
    }
}

@Suite("Served tokens checked by Python cryptography")
struct ServedTokensInteropTests {
    @Test("an activation's token and a manifest verify with Python cryptography against /.well-known/jwks.json", arguments: StoreBackend.all)
    func cryptographyVerifiesServedTokens(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        let dir = try TestPaths.temporaryDirectory()
        try await service.app.test(.router) { client in
            try await client.execute(uri: "/.well-known/jwks.json", method: .get) { response async throws in
                try Data(response.body.readableBytesView).write(to: dir.appendingPathComponent("jwks.json"))
            }
            var tokens: [String] = []
            try await client.execute(uri: "/v1/activations", method: .post, headers: headers(service.dealer1, idempotency: "py"),
                                     body: body(#"{"vin":"WAUZZZF45RA000001","feature":"NAV_PLUS","term":"P1Y"}"#)) { response async throws in
                tokens.append(try json(response)["token"] as? String ?? "")
            }
            try await client.execute(uri: "/v1/vehicles/WAUZZZF45RA000001/manifest", method: .get, headers: headers(service.issuer)) { response async throws in
                tokens.append(try json(response)["manifest"] as? String ?? "")
            }
            for token in tokens {
                let result = try ProcessRunner.run("python3", [TestPaths.file("scripts/interop/cryptography_verify.py").path,
                                                               dir.appendingPathComponent("jwks.json").path, token])
                #expect(result.status == 0, "\(result.diagnosis)")
                #expect(result.stdout.contains("WAUZZZF45RA000001"))
            }
        }
    }
}
