import FoDAPI
import FoDCore
import FoDCrypto
import FoDEntitlements
@testable import FoDServer
import FoDStore
import FoDTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// The answers decode into the typed models the `fod dealer` client uses, a refused booking
/// carries its cause as fields, and a manifest's lifetime is the configured one.
@Suite("Typed API models")
struct TypedModelTests {
    static func decode<T: Decodable>(_ type: T.Type, _ response: TestResponse) throws -> T {
        try JSONDecoder().decode(type, from: Data(response.body.readableBytesView))
    }

    @Test("every answer the dealer client reads decodes into its model, with the values the server holds", arguments: StoreBackend.all)
    func answersDecode(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await service.app.test(.router) { client in
            try await client.execute(uri: "/v1/me", method: .get, headers: headers(service.dealer1)) { response async throws in
                let me = try Self.decode(MeResponse.self, response)
                #expect(me.role == "dealer" && me.dealer?.id.value == "DE-10001" && me.dealer?.name != nil)
            }
            try await client.execute(uri: "/v1/vehicles/WAUZZZF45RA000001", method: .get, headers: headers(service.dealer1)) { response async throws in
                let vehicle = try Self.decode(VehicleBody.self, response)
                let stored = try #require(try await service.services.store.vehicle(try VIN("WAUZZZF45RA000001")))
                #expect(vehicle == VehicleBody(stored))
            }
            var activation: ActivationResponse?
            try await client.execute(uri: "/v1/activations", method: .post, headers: headers(service.dealer1, idempotency: "typed-1"),
                                     body: body(ServerTests.activation)) { response async throws in
                #expect(response.status == .created)
                activation = try Self.decode(ActivationResponse.self, response)
                #expect(response.headers[.location] == "/v1/entitlements/\(activation?.id.value ?? "")")
            }
            let booked = try #require(activation)
            #expect(booked.feature.value == "NAV_PLUS" && booked.term == .oneYear && booked.dealer?.value == "DE-10001")
            #expect(booked.price.gross == Money(minor: booked.price.grossMinor, try Currency("EUR")))
            let claims = try await service.services.verifyEntitlement(booked.token, vin: booked.vin)
            #expect(claims.id == booked.id && claims.expiresAt == booked.expiresAt)
            try await client.execute(uri: "/v1/entitlements/\(booked.id.value)", method: .get, headers: headers(service.dealer1)) { response async throws in
                let entitlement = try Self.decode(EntitlementBody.self, response)
                #expect(entitlement.id == booked.id && entitlement.active && entitlement.revokedAt == nil)
            }
            try await client.execute(uri: "/v1/vehicles/WAUZZZF45RA000001/offers", method: .get, headers: headers(service.dealer1)) { response async throws in
                let offers = try Self.decode(OfferList.self, response)
                let nav = try #require(offers.offers.first { $0.feature.value == "NAV_PLUS" })
                #expect(!nav.bookable && nav.refusal?.rule == "already_active")
            }
            try await client.execute(uri: "/v1/activations?period=2026-11", method: .get, headers: headers(service.dealer1)) { response async throws in
                let month = try Self.decode(ActivationsResponse.self, response)
                #expect(month.period == "2026-11")
            }
            try await client.execute(uri: "/v1/verify", method: .post, headers: headers(service.dealer1),
                                     body: body(#"{"token":"\#(booked.token)"}"#)) { response async throws in
                let verified = try Self.decode(VerifyResponse.self, response)
                #expect(verified.valid && verified.claims == claims)
            }
        }
    }

    @Test("an answer is the same bytes every time: members in the model's order, optional members present as null", arguments: StoreBackend.all)
    func deterministicAnswers(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await service.app.test(.router) { client in
            var texts: [String] = []
            for _ in 0..<3 {
                try await client.execute(uri: "/v1/me", method: .get, headers: headers(service.admin)) { response async throws in
                    texts.append(String(buffer: response.body))
                }
            }
            #expect(Set(texts).count == 1)
            #expect(texts.first?.hasPrefix(#"{"key_id":"#) == true)
            #expect(texts.first?.hasSuffix(#","role":"admin","dealer":null,"partner":null,"salesperson":null}"#) == true)
        }
    }

    @Test("a refused booking names the rule, the feature and the equipment code as fields; the detail is the sentence alone", arguments: StoreBackend.all)
    func structuredRefusal(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await service.app.test(.router) { client in
            try await client.execute(uri: "/v1/activations", method: .post, headers: headers(service.dealer1, idempotency: "typed-2"),
                                     body: body(#"{"vin":"WAUZZZFY7P2000002","feature":"MATRIX_LED","term":"P1Y"}"#)) { response async throws in
                #expect(response.status == .unprocessableContent)
                let problem = try Self.decode(Problem.self, response)
                #expect(problem.code == "not_eligible" && problem.rule == "requires_equipment")
                #expect(problem.feature == "MATRIX_LED" && problem.equipment == "8G4")
                #expect(problem.detail.contains("equipment code 8G4") && !problem.detail.contains("(rule"))
            }
        }
    }

    @Test("a manifest is valid for the configured lifetime", arguments: StoreBackend.all)
    func manifestLifetime(backend: StoreBackend) async throws {
        for days: Int64 in [1, 30] {
            let service = try await TestService(backend, manifestLifetime: days * 86_400)
            try await service.app.test(.router) { client in
                try await client.execute(uri: "/v1/vehicles/WAUZZZF45RA000001/manifest", method: .get, headers: headers(service.issuer)) { response async throws in
                    let manifest = try Self.decode(ManifestResponse.self, response)
                    let claims = try service.services.verifier.verifyManifest(manifest.manifest, vin: try VIN("WAUZZZF45RA000001"), lastAcceptedVersion: nil)
                    #expect(claims.expiresAt - claims.issuedAt == days * 86_400)
                }
            }
        }
    }

    @Test("a manifest fetched again is the same version with the same iat and exp; after half its lifetime the next version, fresher",
          arguments: StoreBackend.all)
    func manifestRefresh(backend: StoreBackend) async throws {
        let clock = SettableClock(TestService.now)
        let service = try await TestService(backend, manifestLifetime: 7 * 86_400, clock: clock)
        let vin = try VIN("WAUZZZF45RA000001")
        func fetch() async throws -> ManifestClaims {
            try await service.app.test(.router) { client in
                try await client.execute(uri: "/v1/vehicles/\(vin.value)/manifest", method: .get, headers: headers(service.issuer)) { response async throws in
                    try service.services.verifier.verifyManifest(try Self.decode(ManifestResponse.self, response).manifest, vin: vin, lastAcceptedVersion: nil)
                }
            }
        }
        let first = try await fetch()
        clock.set(TestService.now + 3 * 86_400)
        let again = try await fetch()
        #expect(again == first, "the same version is the same claims: the vehicle holds it already")
        clock.set(TestService.now + 3 * 86_400 + 12 * 3600 + 1)
        let fresher = try await fetch()
        #expect(fresher.version == first.version + 1 && fresher.expiresAt > first.expiresAt && fresher.entitlements == first.entitlements)
        #expect(fresher.issuedAt == TestService.now + 3 * 86_400 + 12 * 3600 + 1)
        #expect(try await fetch() == fresher)
    }

    @Test("requests decode strictly: duplicate, unknown, missing and mistyped members, then the values, each with its code")
    func strictRequests() throws {
        func code(_ text: String) -> String? {
            do { _ = try StrictJSON.decode(ActivationRequest.self, from: Array(text.utf8)); return nil } catch let error as any CodedError {
                return error.codeName
            } catch { return "\(error)" }
        }
        #expect(code(#"{"vin":"WAUZZZF45RA000001","feature":"NAV_PLUS","term":"P1Y"}"#) == nil)
        #expect(code(#"{"vin":"WAUZZZF45RA000001","vin":"WAUZZZF45RA000001","feature":"NAV_PLUS","term":"P1Y"}"#) == "json_duplicate_member")
        #expect(code(#"{"vin":"WAUZZZF45RA000001","feature":"NAV_PLUS","term":"P1Y","x":1}"#) == "field_unknown")
        // A missing member is reported before a bad value in another member.
        #expect(code(#"{"vin":"nope","feature":"NAV_PLUS"}"#) == "field_missing")
        #expect(code(#"{"vin":1,"feature":"NAV_PLUS","term":"P1Y"}"#) == "field_type")
        #expect(code(#"{"vin":"nope","feature":"NAV_PLUS","term":"P1Y"}"#) == "vin_malformed")
        #expect(code(#"{"vin":"WAUZZZF45RA000001","feature":"NAV_PLUS","term":"forever"}"#) == "term_invalid")
    }

    @Test("the vehicle document has one decoder: a registration and the fixture file refuse the same member", arguments: StoreBackend.all)
    func oneVehicleDocument(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        let document = #"{"vin":"WAUZZZF45RA000009","model":"A4","model_year":2024,"market":"DE","colour":"red"}"#
        try await service.app.test(.router) { client in
            try await client.execute(uri: "/v1/vehicles", method: .post, headers: headers(service.issuer), body: body(document)) { response async throws in
                #expect(response.status == .unprocessableContent)
                #expect(try json(response)["code"] as? String == "field_unknown")
            }
            try await client.execute(uri: "/v1/vehicles", method: .post, headers: headers(service.issuer),
                                     body: body(#"{"vin":"WAUZZZF45RA000009","model":"A4","model_year":2024,"market":"de"}"#)) { response async throws in
                #expect(response.status == .unprocessableContent)
                #expect(try json(response)["code"] as? String == "market_invalid")
            }
        }
        let catalog = try String(contentsOf: TestPaths.file("fixtures/catalog.json"), encoding: .utf8)
        await #expect {
            try await service.services.store.importFixtures(dealers: "[]", vehicles: "[\(document)]", catalog: catalog, actor: "t", at: TestService.now)
        } throws: { error in
            (error as? StoreError)?.reason.contains("unknown field \"colour\"") == true
        }
    }

    @Test("fod's JSON coder and Foundation's agree on every model: each reads what the other writes")
    func codersAgree() throws {
        let claims = EntitlementClaims(issuer: try IssuerID("https://fod.test"), vin: try VIN("WAUZZZF45RA000001"),
                                       id: try EntitlementID("0192d3a0-7c00-7000-8000-000000000001"), issuedAt: 1_795_000_000,
                                       notBefore: 1_795_000_000, expiresAt: nil, feature: try FeatureCode("NAV_PLUS"), term: .permanent)
        let price = Price(market: try Market("DE"), term: .permanent, gross: Money(minor: 133_900, try Currency("EUR")), vat: try BasisPoints(1900))
        let activation = ActivationResponse(claims: claims, token: "a.b.c", price: price)
        let page = AuditPage(entries: [AuditEntryBody(seq: 1, at: 2, actor: "a\"b", action: "x", subject: "ü/€", details: "\n", sha256: "00")], nextAfter: nil)
        let ours = JSONValueEncoder(), theirs = JSONEncoder()
        #expect(try JSONDecoder().decode(ActivationResponse.self, from: Data(try ours.bytes(activation))) == activation)
        #expect(try JSONValueDecoder().decode(ActivationResponse.self, from: Array(try theirs.encode(activation))) == activation)
        #expect(try JSONDecoder().decode(AuditPage.self, from: Data(try ours.bytes(page))) == page)
        #expect(try JSONValueDecoder().decode(AuditPage.self, from: Array(try theirs.encode(page))) == page)
        #expect(try JSONDecoder().decode(EntitlementClaims.self, from: Data(try ours.bytes(claims))) == claims)
        // The verify answer's fast writer gives the same document as the tree encoder.
        let verified = VerifyResponse(claims: claims)
        #expect(try JSONParser.parse(try APIResponseEncoder.bytes(verified)) == (try ours.encode(verified)))
        // A null optional is written as null; the member order is the model's.
        let text = String(decoding: try ours.bytes(activation), as: UTF8.self)
        #expect(text.hasPrefix(#"{"id":"0192d3a0-7c00-7000-8000-000000000001","vin":"WAUZZZF45RA000001","feature":"NAV_PLUS","term":"permanent","dealer":null,"#))
        #expect(text.contains(#""expires_at":null"#))
    }
}
