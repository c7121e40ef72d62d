import FoDCore
import FoDCrypto
@testable import FoDEntitlements
import FoDServer
import FoDStore
import FoDTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// What a hostile client and an unlucky operator found, each answered as it should be.
@Suite("Hardening")
struct HardeningTests {
    static let vin = "WAUZZZF45RA000001"

    @Test("nothing a verifier would refuse is signed or stored, from any entry point", arguments: StoreBackend.all)
    func hostileValues(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        let verifier = Verifier(keys: service.services.keys, issuer: service.services.signing.issuerID, clock: FixedClock(unixSeconds: TestService.now))
        try await service.app.test(.router) { client in
            let hostile: [(String, String, String)] = [
                (#"{"vin":"\#(Self.vin)","feature":"ACC","term":"P1M","startsAt":"1969-12-31T23:59:59Z"}"#, "request_invalid", "a start before 1970"),
                (#"{"vin":"\#(Self.vin)","feature":"FREE_STUFF","term":"P1M"}"#, "feature_unknown", "a feature not in the catalog"),
                (#"{"vin":"\#(Self.vin)","feature":"ACC","term":"P1Y"}"#, "term_not_offered", "a term the feature does not offer"),
                (#"{"vin":"\#(Self.vin)","feature":"ACC","term":"P1M","dealer":"DE-99999"}"#, "dealer_unknown", "a dealer that does not exist"),
            ]
            for (request, code, what) in hostile {
                try await client.execute(uri: "/v1/entitlements", method: .post, headers: headers(service.issuer), body: body(request)) { response async throws in
                    #expect(response.status == .unprocessableContent || response.status == .notFound, "\(what): \(response.status)")
                    #expect(try json(response)["code"] as? String == code, "\(what): \(String(buffer: response.body))")
                }
            }
            let vehicles: [(String, String)] = [
                (#"{"vin":"WBA12345678901234","model":"\#(String(repeating: "A", count: 5000))","model_year":2025,"market":"DE"}"#, "a 5,000-character model"),
                (#"{"vin":"WBA12345678901234","model":"A6\u202Eevil","model_year":2025,"market":"DE"}"#, "a bidi override in the model"),
                (#"{"vin":"WBA12345678901234","model":"A6\u0007","model_year":2025,"market":"DE"}"#, "a control character in the model"),
                (#"{"vin":"WBA12345678901234","model":"A6","model_year":2025,"market":"DE","equipment":["7UG<script>"]}"#, "a bad equipment code"),
                (#"{"vin":"WBA12345678901234","model":"A6","model_year":2025,"market":"DE","dealer_id":"DE-99999"}"#, "an unknown servicing dealer"),
            ]
            for (request, what) in vehicles {
                try await client.execute(uri: "/v1/vehicles", method: .post, headers: headers(service.issuer), body: body(request)) { response async throws in
                    #expect(response.status == .unprocessableContent, "\(what): \(response.status)")
                }
            }
            #expect(try await service.services.store.vehicle(try VIN("WBA12345678901234")) == nil)
            // A good direct issue still works, and the manifest still signs and verifies.
            try await client.execute(uri: "/v1/entitlements", method: .post, headers: headers(service.issuer),
                                     body: body(#"{"vin":"\#(Self.vin)","feature":"ACC","term":"P1M","startsAt":"1970-01-01T00:00:00Z"}"#)) { response async throws in
                #expect(response.status == .created)
            }
            try await client.execute(uri: "/v1/vehicles/\(Self.vin)/manifest", method: .get, headers: headers(service.issuer)) { response async throws in
                #expect(response.status == .ok)
                let manifest = try #require(try json(response)["manifest"] as? String)
                #expect(throws: Never.self) { try verifier.verifyManifest(manifest, vin: try VIN(Self.vin), lastAcceptedVersion: nil) }
            }
        }
        // The stored entitlement passes every check of the verifier but time: it ran in January 1970.
        let stored = try await service.services.store.entitlements(of: try VIN(Self.vin))
        #expect(stored.count == 1)
        for entitlement in stored {
            #expect(throws: EntitlementError(.expired, "")) { try verifier.verifyEntitlement(entitlement.token) }
        }
        // The store refuses API keys for unknown dealers, and hostile labels.
        await #expect(throws: StoreError.self) { try await service.services.store.createAPIKey(role: .dealer, dealer: try DealerID("DE-99999"), label: "x", actor: "t", at: 0) }
        await #expect(throws: StoreError.self) { try await service.services.store.createAPIKey(role: .issuer, dealer: nil, label: "a\u{202E}b", actor: "t", at: 0) }
        // The signer itself refuses claims outside the verifier's range.
        let claims = EntitlementClaims(issuer: service.services.signing.issuerID, vin: try VIN(Self.vin), id: .uuidV7(unixMilliseconds: 0),
                                       issuedAt: 0, notBefore: -1, expiresAt: 10, feature: try FeatureCode("ACC"), term: .oneMonth)
        #expect(throws: EntitlementError.self) { try service.services.signer(.entitlement).sign(claims) }
        #expect(throws: EntitlementError(.requestInvalid, "")) {
            try service.services.signer(.entitlement).issue(EntitlementRequest(vin: try VIN(Self.vin), feature: try FeatureCode("ACC"), term: .oneYear,
                                                                 notBefore: 253_402_000_000))
        }
    }

    @Test("an entitlement stored before claims were validated (a start before 1970) is left out of the manifest, which still verifies", arguments: StoreBackend.all)
    func legacyEntitlementLeftOut(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        let vin = try VIN(Self.vin)
        let legacy = EntitlementClaims(issuer: service.services.signing.issuerID, vin: vin, id: .uuidV7(unixMilliseconds: 1_000), issuedAt: TestService.now,
                                       notBefore: -86_400, expiresAt: nil, feature: try FeatureCode("ACC"), term: .permanent)
        try await service.services.store.recordIssued(IssuedToken(claims: legacy, token: "legacy.token.value"), actor: "old version", at: TestService.now)
        let verifier = Verifier(keys: service.services.keys, issuer: service.services.signing.issuerID, clock: FixedClock(unixSeconds: TestService.now))
        try await service.app.test(.router) { client in
            try await client.execute(uri: "/v1/entitlements", method: .post, headers: headers(service.issuer),
                                     body: body(#"{"vin":"\#(Self.vin)","feature":"ACC","term":"P1M"}"#)) { response async throws in
                #expect(response.status == .created)
            }
            try await client.execute(uri: "/v1/vehicles/\(Self.vin)/manifest", method: .get, headers: headers(service.issuer)) { response async throws in
                #expect(response.status == .ok)
                let manifest = try verifier.verifyManifest(try #require(try json(response)["manifest"] as? String), vin: vin, lastAcceptedVersion: nil)
                #expect(manifest.entitlements.count == 1)
                #expect(!manifest.entitlements.contains { $0.id == legacy.id })
            }
        }
    }

    @Test("an idempotency key replays the same order however its JSON is spelled, and refuses another order", arguments: StoreBackend.all)
    func idempotencyComparesTheOrder(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await service.app.test(.router) { client in
            var first = ""
            try await client.execute(uri: "/v1/activations", method: .post, headers: headers(service.dealer1, idempotency: "spell-1"),
                                     body: body(#"{"vin":"\#(Self.vin)","feature":"NAV_PLUS","term":"P1Y"}"#)) { response async throws in
                #expect(response.status == .created)
                first = try json(response)["id"] as? String ?? ""
            }
            for respelled in [#"{ "term" : "P1Y", "feature":"NAV_PLUS", "vin":"\#(Self.vin)" }"#, #"{"vin":"\#(Self.vin.lowercased())","feature":"NAV_PLUS","term":"P1Y"}"#] {
                try await client.execute(uri: "/v1/activations", method: .post, headers: headers(service.dealer1, idempotency: "spell-1"),
                                         body: body(respelled)) { response async throws in
                    #expect(response.status == .created, "\(respelled)")
                    #expect(response.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
                    #expect(try json(response)["id"] as? String == first)
                }
            }
            try await client.execute(uri: "/v1/activations", method: .post, headers: headers(service.dealer1, idempotency: "spell-1"),
                                     body: body(#"{"vin":"\#(Self.vin)","feature":"NAV_PLUS","term":"P3Y"}"#)) { response async throws in
                #expect(response.status == .unprocessableContent)
                #expect(try json(response)["code"] as? String == "idempotency_key_reused")
            }
            #expect(try await service.services.store.activationCount() == 1)
        }
    }

    @Test("a key stored by an earlier version (hash of the raw body) still replays after the upgrade", arguments: StoreBackend.all)
    func idempotencyAcrossUpgrade(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        let raw = #"{"vin":"\#(Self.vin)","feature":"NAV_PLUS","term":"P1Y"}"#
        let principal = try #require(try await service.services.store.authenticate(secret: service.dealer1, at: TestService.now))
        let issued = try service.services.signer(.entitlement).issue(EntitlementRequest(vin: try VIN(Self.vin), feature: try FeatureCode("NAV_PLUS"), term: .oneYear,
                                                                         dealer: principal.dealer))
        let stored = #"{"id":"\#(issued.claims.id.value)"}"#
        let old = ActivationRecord(activation: NewActivation(entitlement: issued, channel: "dealer", market: try Market("DE"), gross: Money(minor: 14_900, try Currency("EUR")), vat: try BasisPoints(1900)),
                                   principal: principal, idempotencyKey: "before-upgrade",
                                   requestHash: SHA256.hexHash(Array("POST /v1/activations\n".utf8) + Array(raw.utf8)),
                                   response: IdempotentResponse(status: 201, body: Array(stored.utf8)))
        _ = try await service.services.store.recordActivations([old], at: TestService.now)
        try await service.app.test(.router) { client in
            try await client.execute(uri: "/v1/activations", method: .post, headers: headers(service.dealer1, idempotency: "before-upgrade"),
                                     body: body(raw)) { response async throws in
                #expect(response.status == .created)
                #expect(try json(response)["id"] as? String == issued.claims.id.value)
            }
        }
    }

    @Test("what an integrator hit: HEAD on GET routes, 405 with Allow, percent-encoded path parameters, a bad audit cursor, the next cursor", arguments: StoreBackend.all)
    func integratorDetails(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await service.app.test(.router) { client in
            for uri in ["/healthz", "/.well-known/jwks.json", "/v1/vehicles/\(Self.vin)"] {
                try await client.execute(uri: uri, method: .head, headers: headers(service.issuer)) { response async throws in
                    #expect(response.status == .ok, "HEAD \(uri)")
                    #expect(response.body.readableBytes == 0)
                    #expect(response.headers[.contentType] == "application/json")
                    #expect(response.headers[HTTPField.Name("X-Request-Id")!] != nil, "HEAD goes through the middleware")
                }
            }
            try await client.execute(uri: "/v1/vehicles/\(Self.vin)", method: .delete, headers: headers(service.issuer)) { response async throws in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "GET, HEAD")
                #expect(try json(response)["code"] as? String == "method_not_allowed")
            }
            try await client.execute(uri: "/v1/activations", method: .put, headers: headers(service.dealer1)) { response async throws in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "GET, HEAD, POST")
            }
            try await client.execute(uri: "/v1/nothing-here", method: .get, headers: headers(service.issuer)) { response async throws in
                #expect(response.status == .notFound)
                #expect(try json(response)["code"] as? String == "not_found")
            }
            try await client.execute(uri: "/v1/vehicles/%57AUZZZF45RA000001", method: .get, headers: headers(service.issuer)) { response async throws in
                #expect(response.status == .ok)
                #expect(try json(response)["vin"] as? String == Self.vin)
            }
            try await client.execute(uri: "/v1/audit?after=abc", method: .get, headers: headers(service.auditor)) { response async throws in
                #expect(response.status == .badRequest)
                #expect(try json(response)["code"] as? String == "query_invalid")
            }
            try await client.execute(uri: "/v1/audit?after=0", method: .get, headers: headers(service.auditor)) { response async throws in
                #expect(response.status == .ok)
                let answer = try json(response)
                #expect((answer["entries"] as? [Any])?.isEmpty == false)
                #expect(answer.keys.contains("next_after") && answer["next_after"] is NSNull, "a short page has no next cursor")
            }
        }
    }

    @Test("the dealer page shows a refunded entitlement as refunded, without its token or QR code", arguments: StoreBackend.all)
    func refundedResultPage(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await service.app.test(.router) { client in
            var browser = Browser(client: client)
            _ = try await browser.signIn(service.dealer1)
            let confirm = try await browser.get("/dealer/confirm?vin=\(Self.vin)&feature=NAV_PLUS&term=P1Y")
            let form = ["csrf", "vin", "feature", "term", "idempotency_key"].map { ($0, Browser.hidden($0, in: confirm) ?? "") }
            let location = try #require(try await browser.post("/dealer/activate", form).headers[.location])
            let stored = try #require(try await service.services.store.entitlements(of: try VIN(Self.vin)).first)
            let live = String(buffer: try await browser.get(location).body)
            #expect(live.contains("Navigation Plus is active") && live.contains("<svg") && live.contains(stored.token))
            try await client.execute(uri: "/v1/activations/\(stored.claims.id.value)/refund", method: .post, headers: headers(service.issuer)) { response async throws in
                #expect(response.status == .ok)
            }
            let refunded = String(buffer: try await browser.get(location).body)
            #expect(refunded.contains("Navigation Plus was refunded on") && refunded.contains("switched off"))
            #expect(!refunded.contains("is active") && !refunded.contains("<svg") && !refunded.contains(stored.token))
        }
    }

    @Test("a free trial is booked once per vehicle and feature, also after it was revoked", arguments: StoreBackend.all)
    func oneTrial(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await service.app.test(.router) { client in
            let trial = #"{"vin":"\#(Self.vin)","feature":"NAV_PLUS","term":"trial"}"#
            var id = ""
            try await client.execute(uri: "/v1/activations", method: .post, headers: headers(service.dealer1, idempotency: "t1"), body: body(trial)) { response async throws in
                #expect(response.status == .created)
                id = try json(response)["id"] as? String ?? ""
            }
            try await client.execute(uri: "/v1/entitlements/\(id)/revoke", method: .post, headers: headers(service.issuer), body: body(#"{"reason":"test"}"#)) { response async throws in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/v1/activations", method: .post, headers: headers(service.dealer1, idempotency: "t2"), body: body(trial)) { response async throws in
                #expect(response.status == .unprocessableContent)
                #expect(try json(response)["code"] as? String == "trial_used")
            }
            // A paid term of the same feature is still bookable.
            try await client.execute(uri: "/v1/activations", method: .post, headers: headers(service.dealer1, idempotency: "t3"),
                                     body: body(#"{"vin":"\#(Self.vin)","feature":"NAV_PLUS","term":"P1Y"}"#)) { response async throws in
                #expect(response.status == .created)
            }
        }
    }

    @Test("HTTP details: no-store on answers with tokens, case-insensitive bearer, 415 for other media types, 400 for a body that cannot be read", arguments: StoreBackend.all)
    func httpDetails(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await service.app.test(.router) { client in
            try await client.execute(uri: "/v1/activations", method: .post, headers: headers(service.dealer1, idempotency: "h1"),
                                     body: body(#"{"vin":"\#(Self.vin)","feature":"NAV_PLUS","term":"P1Y"}"#)) { response async throws in
                #expect(response.status == .created)
                #expect(response.headers[.cacheControl] == "no-store")
            }
            for scheme in ["bearer", "BEARER", "Bearer"] {
                var fields = HTTPFields()
                fields[.authorization] = "\(scheme) \(service.dealer1)"
                try await client.execute(uri: "/v1/me", method: .get, headers: fields) { response async throws in
                    #expect(response.status == .ok, "scheme \(scheme)")
                }
            }
            for type in ["text/plain", "application/xml", "application/x-www-form-urlencoded"] {
                var fields = headers(service.dealer1, idempotency: "h-\(type)")
                fields[.contentType] = type
                try await client.execute(uri: "/v1/activations", method: .post, headers: fields,
                                         body: body(#"{"vin":"\#(Self.vin)","feature":"ACC","term":"P1M"}"#)) { response async throws in
                    #expect(response.status == .unsupportedMediaType, "\(type)")
                    #expect(try json(response)["code"] as? String == "unsupported_media_type")
                    #expect(response.headers[.cacheControl] == "no-store")
                }
            }
            var charset = headers(service.dealer1, idempotency: "h-charset")
            charset[.contentType] = "application/json; charset=utf-8"
            try await client.execute(uri: "/v1/activations", method: .post, headers: charset,
                                     body: body(#"{"vin":"\#(Self.vin)","feature":"ACC","term":"P1M"}"#)) { response async throws in
                #expect(response.status == .created)
            }
        }
    }

    @Test("the sign-in form's CSRF token must come from this server: a value planted in cookie and field is refused", arguments: StoreBackend.all)
    func loginCSRF(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await service.app.test(.router) { client in
            var attacker = Browser(client: client)
            attacker.cookies["fod_login_csrf"] = "planted-by-attacker"
            let planted = try await attacker.post("/dealer/login", [("key", service.dealer1), ("csrf", "planted-by-attacker")])
            #expect(planted.status == .forbidden)
            #expect(attacker.cookies["fod_session"] == nil)
            // A token of the right shape with a forged MAC is refused too.
            let forged = "\(TestService.now + 600).AAAAAAAAAAAAAAAAAAAAAA.\(Base64URL.encode([UInt8](repeating: 7, count: 32)))"
            attacker.cookies["fod_login_csrf"] = forged
            #expect(try await attacker.post("/dealer/login", [("key", service.dealer1), ("csrf", forged)]).status == .forbidden)
            var user = Browser(client: client)
            let signedIn = try await user.signIn(service.dealer1)
            #expect(signedIn.status == .seeOther && user.cookies["fod_session"] != nil)
        }
    }
}
