import FoDCore
import FoDCrypto
import FoDEntitlements
@testable import FoDInvoicing
@testable import FoDPostgres
import FoDRevenue
@testable import FoDServer
@testable import FoDStore
import FoDTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOSSL
import Synchronization
import Testing

/// Hardening II (issue 38): each defect a hostile client or an unlucky operator met, answered as
/// it should be, through the real router on both stores where a store is involved.
@Suite("Hardening II")
struct HardeningIITests {
    static let q5 = "WAUZZZFY7P2000013"
    static let day: Int64 = 86_400

    /// Registers the Q5 of the report (2023, DE, 7UG) with the issuer key.
    static func registerQ5(_ client: some TestClientProtocol, _ service: TestService) async throws {
        let text = #"{"vin":"\#(q5)","model":"Q5","model_year":2023,"market":"DE","equipment":["7UG"]}"#
        try await client.execute(uri: "/v1/vehicles", method: .post, headers: headers(service.issuer), body: body(text)) { response async throws in
            #expect(response.status == .created, "\(String(buffer: response.body))")
        }
    }

    /// A counter sale by dealer 1; returns the answer.
    static func sell(_ client: some TestClientProtocol, _ service: TestService, _ text: String, key: String = UUID().uuidString,
                     status: HTTPResponse.Status = .created) async throws -> [String: Any] {
        try await client.execute(uri: "/v1/activations", method: .post, headers: headers(service.dealer1, idempotency: key), body: body(text)) { response async throws in
            #expect(response.status == status, "\(text): \(String(buffer: response.body))")
            return try json(response)
        }
    }

    static func call(_ client: some TestClientProtocol, _ uri: String, _ method: HTTPRequest.Method = .post, key: String, _ text: String? = nil,
                     status: HTTPResponse.Status, code: String? = nil) async throws -> [String: Any] {
        try await client.execute(uri: uri, method: method, headers: headers(key), body: text.map(body)) { response async throws in
            #expect(response.status == status, "\(method) \(uri) \(text ?? ""): \(String(buffer: response.body))")
            let answer = (try? json(response)) ?? [:]
            if let code { #expect(answer["code"] as? String == code, "\(uri): \(answer)") }
            return answer
        }
    }

    static func manifestVersion(_ client: some TestClientProtocol, _ service: TestService, _ vin: String) async throws -> (Int64, String) {
        try await client.execute(uri: "/v1/vehicles/\(vin)/manifest", method: .get, headers: headers(service.issuer)) { response async throws in
            let answer = try json(response)
            return (answer["version"] as? Int64 ?? -1, answer["manifest"] as? String ?? "")
        }
    }

    // MARK: 0 — request heads that do not parse

    @Test("a Content-Type that does not parse is 415, never a crash (the request that killed the server), on every JSON route")
    func contentTypeNeverTraps() async throws {
        let service = try await TestService()
        try await service.app.test(.router) { client in
            for value in [";", "", " ", ";;", "/", "application/", "/json", "application/json;", "application/json; charset", "a/b/c",
                          "application/json\u{7F}", "text/plain", "application/problem+json; x=\"unterminated", "*/*", "+json"] {
                var fields = HTTPFields()
                fields[.contentType] = value
                try await client.execute(uri: "/v1/time", method: .post, headers: fields, body: body(#"{"nonce":"0123456789abcdef0123"}"#)) { response async throws in
                    #expect([.ok, .unsupportedMediaType].contains(response.status), "\(value.debugDescription): \(response.status)")
                }
            }
        }
        #expect(FoDServer.RequestBody.isJSON("application/json; charset=utf-8") && FoDServer.RequestBody.isJSON("application/problem+json"))
        #expect(!FoDServer.RequestBody.isJSON(";") && !FoDServer.RequestBody.isJSON("") && !FoDServer.RequestBody.isJSON("application/+json") && !FoDServer.RequestBody.isJSON("text/json"))
        #expect(FoDServer.RequestBody.isForm("application/x-www-form-urlencoded; charset=utf-8") && !FoDServer.RequestBody.isForm(";") && !FoDServer.RequestBody.isForm(nil))
    }

    /// Random text: ASCII with separators and controls, some Unicode, of length 0…`max`.
    static func random(_ generator: inout some RandomNumberGenerator, max: Int = 40) -> String {
        let alphabet = Array(";=,/ .-+_%&?#\"'\\\t\r\n\0:[]{}()<>*@!$~^`|0123456789abcdefxyzABCDEFXYZ") + ["é", "\u{202E}", "€", "𝄞", "\u{FEFF}"]
        return String((0..<Int.random(in: 0...max, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
    }

    @Test("every hand-written parser of request input takes random and structured input without trapping")
    func parsersTakeAnything() throws {
        var generator = SystemRandomNumberGenerator()
        let csrf = DealerSessionCookies.LoginCSRF(key: Array(repeating: 7, count: 32))
        let methods = MethodTable()
        methods.load([("/v1/entitlements/{id}", "GET"), ("/v1/entitlements/{id}/revoke", "POST"), ("/dealer/vehicles/:vin", "GET")])
        let currencies = try ["EUR", "JPY", "KWD", "CLF"].map { try Currency($0) }
        let structured = ["", ".", "..", "1.2.3", "-", "-.", "999999999999999.9999", "999999999999999", "-999999999999999.99", "9223372036854775807",
                          "1e5", "0x10", "١٢٣", "1_000", "+1", " 1", "1 ", "00000000000000000001.00"]
        for round in 0..<20_000 {
            let text = round < structured.count ? structured[round] : Self.random(&generator)
            _ = FoDServer.RequestBody.isJSON(text)
            _ = FoDServer.RequestBody.isForm(text)
            _ = csrf.isValid(text, now: 0)
            _ = methods.methods(for: "/" + text)
            if let seconds = Timestamp.parseSeconds(text) { #expect(Instant(unixSeconds: seconds).rfc3339.count >= 20) }
            _ = Instant(unixSeconds: Int64.random(in: -62_167_219_200...253_402_300_799, using: &generator)).rfc3339
            _ = ProtocolErrorHandler.announcesTooMuch(text)
            _ = IPAddress(text)?.isPublic
            _ = try? WebhookURL.check("https://" + text, allowPrivate: false)
            _ = try? EntitlementID(text)
            _ = try? VIN(text)
            _ = try? ReportPeriod(text)
            _ = RequestIDMiddleware.valid(text)
            _ = ActivationRoutes.isValidKey(text)
            _ = DisplayText.violation(in: text, "x", maxLength: 10)
            for currency in currencies { _ = try? PeriodRoutes.minor(text, currency) }
        }
        // The amount that trapped: 15 digits and 4 places (CLF) — refused, not wrapped.
        #expect(throws: APIError.self) { try PeriodRoutes.minor("999999999999999.9999", try Currency("CLF")) }
        #expect(try PeriodRoutes.minor("-12.50", try Currency("EUR")) == -1250)
        #expect(ProtocolErrorHandler.announcesTooMuch("1000000000000") && ProtocolErrorHandler.announcesTooMuch("99999999999999999999999"))
        #expect(!ProtocolErrorHandler.announcesTooMuch("65536") && ProtocolErrorHandler.announcesTooMuch("65537"))
    }

    @Test("random requests through the router — paths, queries, headers, cookies, bodies, forms — get an answer below 500, never a trap")
    func routerFuzz() async throws {
        let service = try await TestService()
        let paths = ["/v1/time", "/v1/activations", "/v1/purchases", "/v1/entitlements/{x}", "/v1/entitlements/{x}/withdraw", "/v1/entitlements/{x}/cancel",
                     "/v1/vehicles/{x}", "/v1/vehicles/{x}/transfer", "/v1/vehicles/{x}/manifest", "/v1/vehicles/{x}/dealer", "/v1/entitlements",
                     "/v1/events", "/v1/webhooks/{x}/deliveries", "/v1/periods/{x}/close", "/v1/credit-notes/{x}", "/v1/objections/{x}/resolve",
                     "/v1/dealers/{x}/book-extract", "/v1/reports/statements", "/v1/exports/events", "/dealer/login", "/dealer/vehicles/{x}",
                     "/dealer/activate", "/dealer/lookup", "/.well-known/fod/root/{x}", "/{x}"]
        let queries = ["", "?after={x}", "?limit={x}", "?period={x}&dealer={x}", "?expiring_within={x}", "?from={x}&to={x}", "?vin={x}", "?{x}", "?status={x}"]
        let keys = [service.admin, service.issuer, service.auditor, service.dealer1, "", "fod_x", "Bearer"]
        try await service.app.test(.router) { client in
            var generator = SystemRandomNumberGenerator()
            for _ in 0..<1_500 {
                func fill(_ template: String) -> String {
                    var text = template
                    while let range = text.range(of: "{x}") {
                        let value = Self.random(&generator, max: 30)
                        let encoded = value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
                        text.replaceSubrange(range, with: Bool.random(using: &generator) ? encoded : String(encoded.prefix(20)) + "%" + String(Int.random(in: 0...255, using: &generator), radix: 16))
                    }
                    return text
                }
                let uri = fill(paths.randomElement(using: &generator)!) + fill(queries.randomElement(using: &generator)!)
                var fields = HTTPFields()
                if let key = keys.randomElement(using: &generator), !key.isEmpty { fields[.authorization] = "Bearer \(key)" }
                let ascii = { (max: Int) in String(Self.random(&generator, max: max).unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7F }) }
                if Bool.random(using: &generator) { fields[.contentType] = ["application/json", "application/x-www-form-urlencoded", ascii(30)].randomElement(using: &generator)! }
                if Bool.random(using: &generator) { fields[.cookie] = "fod_session=\(ascii(40)); fod_login_csrf=\(ascii(40)); \(ascii(20))" }
                if Bool.random(using: &generator) { fields[HTTPField.Name("Idempotency-Key")!] = ascii(80) }
                if Bool.random(using: &generator) { fields[HTTPField.Name("X-Request-Id")!] = ascii(80) }
                let bodies = [#"{"vin":"\#(Self.random(&generator))","feature":"\#(Self.random(&generator))","term":"P1M"}"#,
                              "username=\(ascii(20))&csrf=\(ascii(20))&key=\(ascii(30))&vin=%\(ascii(3))&&=&a", Self.random(&generator, max: 200), "{}", ""]
                let method: HTTPRequest.Method = [.get, .post, .put, .delete, .head, .patch].randomElement(using: &generator)!
                try await client.execute(uri: uri, method: method, headers: fields, body: body(bodies.randomElement(using: &generator)!)) { response async throws in
                    #expect(response.status.code < 500 || response.status == .serviceUnavailable, "\(method) \(uri): \(response.status) \(String(buffer: response.body))")
                }
            }
        }
    }

    // MARK: 1, 2 — changes of owner

    @Test("a permanent feature that does not stay with the vehicle ends at the transfer: at once, after an upgrade, and when a transfer dated ahead takes effect",
          arguments: StoreBackend.all)
    func permanentEndsAtTransfer(backend: StoreBackend) async throws {
        let clock = SettableClock(TestService.now)
        let service = try await TestService(backend, clock: clock)
        try await service.app.test(.router) { client in
            try await Self.registerQ5(client, service)
            let permanent = try await Self.sell(client, service, #"{"vin":"\#(Self.q5)","feature":"MORE_POWER","term":"permanent"}"#)
            let id = permanent["id"] as? String ?? ""
            let (before, _) = try await Self.manifestVersion(client, service, Self.q5)
            let answer = try await Self.call(client, "/v1/vehicles/\(Self.q5)/transfer", key: service.issuer, "{}", status: .ok)
            #expect(answer["revoked"] as? [String] == [id])
            let (after, manifest) = try await Self.manifestVersion(client, service, Self.q5)
            #expect(after > before)
            let claims = try service.services.verifier.verifyManifest(manifest, vin: try VIN(Self.q5), lastAcceptedVersion: nil)
            #expect(!claims.entitlements.contains { $0.id.value == id })
            _ = try await Self.call(client, "/v1/verify", key: service.issuer, #"{"token":"\#(permanent["token"] as? String ?? "")"}"#,
                                    status: .unprocessableContent, code: "revoked")

            // An upgrade to permanent of a month: both end (the month re-signed, the upgrade revoked).
            clock.set(TestService.now + 60)
            let month = try await Self.sell(client, service, #"{"vin":"\#(Self.q5)","feature":"MORE_POWER","term":"P1M"}"#)
            let upgrade = try await Self.sell(client, service, #"{"vin":"\#(Self.q5)","feature":"MORE_POWER","term":"permanent","extend":true}"#)
            clock.set(TestService.now + 90)
            let second = try await Self.call(client, "/v1/vehicles/\(Self.q5)/transfer", key: service.issuer, "{}", status: .ok)
            #expect(second["ended"] as? [String] == [month["id"] as? String ?? ""])
            #expect(second["revoked"] as? [String] == [upgrade["id"] as? String ?? ""])

            // Dated ahead: nothing ends yet; the renewal job's run at the date revokes it, once.
            clock.set(TestService.now + 120)
            let later = try await Self.sell(client, service, #"{"vin":"\#(Self.q5)","feature":"MORE_POWER","term":"permanent"}"#)
            let effective = TestService.now + 3 * Self.day
            let third = try await Self.call(client, "/v1/vehicles/\(Self.q5)/transfer", key: service.issuer,
                                            #"{"effective_at":"\#(Instant(unixSeconds: effective).rfc3339)"}"#, status: .ok)
            #expect((third["revoked"] as? [String] ?? ["x"]).isEmpty && (third["ended"] as? [String] ?? ["x"]).isEmpty)
            let laterID = try EntitlementID(later["id"] as? String ?? "")
            #expect(try await service.services.store.entitlement(laterID)?.revokedAt == nil, "still the owner's until the date")
            clock.set(effective - 1)
            #expect(try await RenewalService(services: service.services).run(lead: 0).endedByTransfer == 0)
            clock.set(effective + 60)
            #expect(try await RenewalService(services: service.services).run(lead: 0).endedByTransfer == 1)
            #expect(try await service.services.store.entitlement(laterID)?.revokeReason == "transfer")
            #expect(try await RenewalService(services: service.services).run(lead: 0).endedByTransfer == 0, "once")
        }
    }

    @Test("a back-dated transfer leaves what the new owner bought after its date; a sale after a transfer recorded ahead ends at it; effective_at is bounded",
          arguments: StoreBackend.all)
    func transferDates(backend: StoreBackend) async throws {
        let clock = SettableClock(TestService.now)
        let service = try await TestService(backend, clock: clock)
        try await service.app.test(.router) { client in
            try await Self.registerQ5(client, service)
            let registered = TestService.now
            clock.set(registered + 30 * Self.day)
            let bought = try await Self.sell(client, service, #"{"vin":"\#(Self.q5)","feature":"MORE_POWER","term":"P1M"}"#)
            func transfer(_ at: String, status: HTTPResponse.Status, code: String? = nil) async throws -> [String: Any] {
                try await Self.call(client, "/v1/vehicles/\(Self.q5)/transfer", key: service.issuer, #"{"effective_at":"\#(at)"}"#, status: status, code: code)
            }
            let back = try await transfer(Instant(unixSeconds: registered + 10 * Self.day).rfc3339, status: .ok)
            #expect((back["ended"] as? [String] ?? ["x"]).isEmpty && (back["revoked"] as? [String] ?? ["x"]).isEmpty, "\(back)")
            let stored = try await service.services.store.entitlement(try EntitlementID(bought["id"] as? String ?? ""))
            #expect(stored?.revokedAt == nil && stored?.claims.expiresAt == bought["expires_at"] as? Int64, "the new owner's sale is untouched")

            let early = try await transfer(Instant(unixSeconds: registered - Self.day).rfc3339, status: .unprocessableContent, code: "effective_at_before_registration")
            #expect((early["detail"] as? String ?? "").contains("registered"))
            let far = try await transfer("3000-01-01T00:00:00Z", status: .unprocessableContent, code: "effective_at_out_of_range")
            #expect((far["detail"] as? String ?? "").contains("366 days"), "a true message, not 'not an RFC 3339 instant'")
            _ = try await transfer("2026-02-30T00:00:00Z", status: .unprocessableContent, code: "request_invalid")
            // Before 1678 (outside 64-bit nanoseconds): refused, not a crash (schemathesis found it).
            _ = try await transfer("0066-07-18T15:58:56.6+14:40", status: .unprocessableContent, code: "effective_at_before_registration")
            _ = try await Self.call(client, "/v1/vehicles/\(Self.q5)/transfer", key: service.issuer, #"{"effective_at":null}"#,
                                    status: .unprocessableContent)

            // Recorded ahead, then a sale of a feature that does not stay: it ends at the transfer;
            // one that would only start after it is refused.
            let a6 = "WAUZZZF45RA000001"
            let ahead = clock.unixSeconds() + 5 * Self.day
            _ = try await Self.call(client, "/v1/vehicles/\(a6)/transfer", key: service.issuer, #"{"effective_at":"\#(Instant(unixSeconds: ahead).rfc3339)"}"#, status: .ok)
            let capped = try await Self.sell(client, service, #"{"vin":"\#(a6)","feature":"MORE_POWER","term":"P1M"}"#)
            #expect(capped["expires_at"] as? Int64 == ahead, "\(capped)")
            let token = try await service.services.verifyEntitlement(capped["token"] as? String ?? "", vin: try VIN(a6))
            #expect(token.expiresAt == ahead)
            _ = try await Self.sell(client, service, #"{"vin":"\#(a6)","feature":"MORE_POWER","term":"P1M","extend":true}"#, status: .unprocessableContent)
            // A feature that stays keeps its whole term.
            let nav = try await Self.sell(client, service, #"{"vin":"\#(a6)","feature":"NAV_PLUS","term":"P1Y"}"#)
            #expect((nav["expires_at"] as? Int64 ?? 0) > ahead + 300 * Self.day)
        }
    }

    // MARK: 4 — consent

    @Test("an acknowledgement that removes the withdrawal right must lie just before the sale", arguments: StoreBackend.all)
    func consentTime(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        let now = TestService.now
        try await service.app.test(.router) { client in
            for (index, at) in ["2099-01-01T00:00:00Z", "1900-01-01T00:00:00Z", Instant(unixSeconds: now + Self.day).rfc3339,
                                Instant(unixSeconds: now - 8 * Self.day).rfc3339].enumerated() {
                let text = #"{"vin":"WAUZZZF45RA000001","feature":"ACC","term":"P1M","channel":"online","order_id":"C-\#(index)","gross_minor":2499,"currency":"EUR","consent":{"terms_version":"t","immediate_start":true,"acknowledged_at":"\#(at)"}}"#
                _ = try await Self.call(client, "/v1/purchases", key: service.issuer, text, status: .unprocessableContent, code: "consent_invalid")
            }
            let good = #"{"vin":"WAUZZZF45RA000001","feature":"ACC","term":"P1M","channel":"online","order_id":"C-ok","gross_minor":2499,"currency":"EUR","consent":{"terms_version":"t","immediate_start":true,"acknowledged_at":"\#(Instant(unixSeconds: now - 600).rfc3339)"}}"#
            _ = try await Self.call(client, "/v1/purchases", key: service.issuer, good, status: .created)
        }
    }

    // MARK: 5, 6 — closing

    @Test("the first close is the month of the first sale; adjustments are bounded so that no input makes a close impossible", arguments: StoreBackend.all)
    func closingBounds(backend: StoreBackend) async throws {
        let clock = SettableClock(TestService.now)
        let service = try await TestService(backend, clock: clock)
        try await service.app.test(.router) { client in
            _ = try await PeriodCloseTests.close(client, service.auditor, "1970-01", status: .conflict, code: "period_not_closable")
            _ = try await PeriodCloseTests.purchase(client, service, order: "B-1", vin: "WAUZZZF45RA000001", feature: "NAV_PLUS", term: "P1Y", gross: 14_900)
            clock.set(PeriodCloseTests.decemberFirst + 60)
            for early in ["1970-01", "2026-10"] {
                let refused = try await PeriodCloseTests.close(client, service.auditor, early, status: .conflict, code: "period_not_closable")
                #expect((refused["detail"] as? String ?? "").contains("2026-11"))
            }
            let closed = try await PeriodCloseTests.close(client, service.auditor, PeriodCloseTests.november)
            let number = (closed["credit_notes"] as? [[String: Any]])?.first?["number"] as? String ?? ""
            func objection() async throws -> String {
                try await Self.call(client, "/v1/credit-notes/\(number)/objections", key: service.dealer1, #"{"reason":"check"}"#, status: .created)["id"] as? String ?? ""
            }
            let first = try await objection()
            for amount in ["999999999999999.99", "-1000000.01", "99999999999999999999"] {
                _ = try await Self.call(client, "/v1/objections/\(first)/resolve", key: service.auditor,
                                        #"{"decision":"adjust","amount":"\#(amount)","reason":"x"}"#, status: .unprocessableContent)
            }
            _ = try await Self.call(client, "/v1/objections/\(first)/resolve", key: service.auditor,
                                    #"{"decision":"adjust","amount":"1000000.00","reason":"the largest one"}"#, status: .ok)
            // The pending total of a dealer stays within 100 × the limit.
            var refused = false
            for _ in 0..<101 where !refused {
                let id = try await objection()
                let answer = try await client.execute(uri: "/v1/objections/\(id)/resolve", method: .post, headers: headers(service.auditor),
                                                      body: body(#"{"decision":"adjust","amount":"1000000.00","reason":"again"}"#)) { try json($0) }
                refused = answer["code"] as? String == "adjustment_total_exceeded"
            }
            #expect(refused)
            clock.set(PeriodCloseTests.januaryFirst + 60)
            _ = try await PeriodCloseTests.close(client, service.auditor, "2026-12")
        }
    }

    @Test("a statement closed with one key still verifies after the service restarts with another: every statement key is published", arguments: StoreBackend.all)
    func statementKeysKept(backend: StoreBackend) async throws {
        let clock = SettableClock(TestService.now)
        let service = try await TestService(backend, clock: clock)
        let (statement, signature) = try await service.app.test(.router) { client -> (String, String) in
            _ = try await PeriodCloseTests.purchase(client, service, order: "K-1", vin: "WAUZZZF45RA000001", feature: "NAV_PLUS", term: "P1Y", gross: 14_900)
            clock.set(PeriodCloseTests.decemberFirst + 60)
            _ = try await PeriodCloseTests.close(client, service.auditor, PeriodCloseTests.november)
            let signed = try await Self.call(client, "/v1/periods/\(PeriodCloseTests.november)/statement", .get, key: service.auditor, status: .ok)
            return (signed["statement"] as? String ?? "", signed["signature"] as? String ?? "")
        }
        let other = try PrivateKey.generate(.es256)
        let restarted = try await FoDServices(store: service.services.store, signing: SigningKeys(key: other, issuer: service.services.signing.issuerID, clock: clock),
                                              catalog: service.services.catalog, rules: service.services.rules, clock: clock)
        try await Application(responder: try buildResponder(services: restarted)).test(.router) { client in
            let jwks = try await client.execute(uri: "/.well-known/jwks.json", method: .get) { String(buffer: $0.body) }
            #expect(throws: (any Error).self) { try DetachedJWS.verify(signature, payload: Array(statement.utf8), keys: try KeySet(jwksJSON: jwks)) }
            let kept = try await client.execute(uri: "/.well-known/fod/statement-keys.json", method: .get) { response async throws in
                #expect(response.status == .ok)
                return String(buffer: response.body)
            }
            #expect(throws: Never.self) { try DetachedJWS.verify(signature, payload: Array(statement.utf8), keys: try KeySet(jwksJSON: kept)) }
            #expect(!kept.contains("\"d\""), "public keys only")
        }
    }

    @Test("the key a service signs statements with is kept at start, so statements closed before keys were kept stay verifiable", arguments: StoreBackend.all)
    func signingKeyKeptAtStart(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await PeriodCloseService.keepSigningKey(service.services)
        try await PeriodCloseService.keepSigningKey(service.services)
        let first = try service.services.signing.requireSigner(for: .entitlement).keyID
        let clock = FixedClock(unixSeconds: TestService.now)
        let restarted = try await FoDServices(store: service.services.store,
                                              signing: SigningKeys(key: try PrivateKey.generate(.es256), issuer: service.services.signing.issuerID, clock: clock),
                                              catalog: service.services.catalog, rules: service.services.rules, clock: clock)
        try await PeriodCloseService.keepSigningKey(restarted)
        let kept = try await PeriodCloseService.statementKeys(restarted).keys.map(\.keyID)
        #expect(Set(kept) == [first, try restarted.signing.requireSigner(for: .entitlement).keyID] && kept.count == 2)
    }

    // MARK: 7, 13 — webhooks

    @Test("a replay beyond the newest event is refused; a deleted endpoint's delivery log stays readable and its lag series goes", arguments: StoreBackend.all)
    func webhookEdges(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await service.app.test(.router) { client in
            let made = try await Self.call(client, "/v1/webhooks", key: service.admin, #"{"url":"https://93.184.215.14/hook"}"#, status: .created)
            let id = made["id"] as? String ?? ""
            _ = try await Self.call(client, "/v1/webhooks/\(id)/replay", key: service.admin, #"{"after":1000000000000000000}"#,
                                    status: .unprocessableContent, code: "after_beyond_newest")
            _ = try await Self.call(client, "/v1/webhooks/\(id)/replay", key: service.admin, #"{"after":1}"#, status: .ok)
            service.services.metrics.webhookAttempts([], endpoint: id, lagSeconds: 5)
            #expect(String(decoding: service.services.metrics.render(), as: UTF8.self).contains(id))
            _ = try await Self.call(client, "/v1/webhooks/\(id)", .delete, key: service.admin, status: .noContent)
            let log = try await Self.call(client, "/v1/webhooks/\(id)/deliveries", .get, key: service.admin, status: .ok)
            #expect(log["deliveries"] is [Any])
            _ = try await Self.call(client, "/v1/webhooks/\(id)", .get, key: service.admin, status: .notFound)
            _ = try await Self.call(client, "/v1/webhooks/no-such/deliveries", .get, key: service.admin, status: .notFound)
            #expect(!String(decoding: service.services.metrics.render(), as: UTF8.self).contains(id), "no series for a deleted endpoint")
        }
    }

    @Test("addresses are judged by the IANA special-purpose registries, IPv6 forms that carry an IPv4 address by that address")
    func specialPurposeAddresses() throws {
        let refused = ["::ffff:0:127.0.0.1", "::ffff:0:7f00:1", "2002:7f00:1::", "2002:c0a8:0101::1", "192.0.2.1", "198.51.100.7", "203.0.113.9",
                       "192.0.0.8", "192.88.99.1", "240.0.0.1", "255.255.255.255", "0.0.0.0", "100.64.0.1", "198.18.0.1", "64:ff9b::7f00:1",
                       "64:ff9b:1::1", "2001::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "::127.0.0.1", "::1", "::", "fe80::1", "fec0::1",
                       "fc00::1", "fd12::1", "ff02::1", "2001:db8::1", "3fff::1", "100::1", "5f00::1", "::ffff:10.0.0.1", "2001:4860::5efe:10.1.2.3",
                       "127.0.0.1", "10.0.0.1", "172.16.0.1", "192.168.1.1", "169.254.169.254", "224.0.0.1"]
        for text in refused {
            let address = try #require(IPAddress(text), "\(text)")
            #expect(!address.isPublic, "\(text)")
            #expect(throws: APIError.self, "\(text)") { try WebhookURL.check("https://[\(text)]/", allowPrivate: false) }
        }
        for text in ["8.8.8.8", "93.184.215.14", "2606:4700:4700::1111", "2a00:1450:4001:80b::200e", "2002:0808:0808::1", "64:ff9b::808:808",
                     "::ffff:8.8.8.8", "192.31.196.1", "2001:4860::5efe:8.8.4.4"] {
            #expect(IPAddress(text)?.isPublic == true, "\(text)")
        }
    }

    // MARK: 9, 10 — event routing, cancelling what ended

    @Test("vehicle events go to the servicing dealer's feed and name the servicing dealer as GET /v1/vehicles does", arguments: StoreBackend.all)
    func vehicleEventsFollowTheServicingDealer(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        let vin = "WAUZZZFY7P2000002"  // registered with DE-10002
        try await service.app.test(.router) { client in
            _ = try await Self.call(client, "/v1/vehicles/\(vin)/transfer", key: service.issuer, "{}", status: .ok)
            let vehicle = try await Self.call(client, "/v1/vehicles/\(vin)", .get, key: service.issuer, status: .ok)
            let servicing = vehicle["servicing_dealer"] as? String ?? vehicle["dealer_id"] as? String
            let events = try await WebhookTests.feed(client, service.auditor).filter { $0["type"] as? String == "vehicle.transferred" }
            let data = events.last?["data"] as? [String: Any]
            #expect(servicing == "DE-10002" && data?["servicing_dealer"] as? String == servicing, "\(String(describing: data))")

            _ = try await Self.call(client, "/v1/vehicles/\(vin)/dealer", .put, key: service.issuer, #"{"dealer_id":"DE-10001"}"#, status: .ok)
            _ = try await Self.call(client, "/v1/vehicles/\(vin)/transfer", key: service.issuer,
                                    #"{"effective_at":"\#(Instant(unixSeconds: TestService.now + 60).rfc3339)"}"#, status: .ok)
            let mine = try await WebhookTests.feed(client, service.dealer1).map { $0["type"] as? String ?? "" }
            #expect(mine.contains("vehicle.dealer_assigned") && mine.contains("vehicle.transferred"), "\(mine)")
            let theirs = try await WebhookTests.feed(client, service.dealer2).filter { ($0["data"] as? [String: Any])?["servicing_dealer"] as? String == "DE-10001" }
            #expect(theirs.isEmpty, "the former dealer does not get the new dealer's vehicle events")
        }
    }

    @Test("a withdrawn subscription cannot be cancelled (no event, no future end)", arguments: StoreBackend.all)
    func cancelAfterWithdrawal(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await service.app.test(.router) { client in
            let sold = try await Self.sell(client, service, #"{"vin":"WAUZZZF45RA000001","feature":"ACC","term":"subscription"}"#)
            let id = sold["id"] as? String ?? ""
            _ = try await Self.call(client, "/v1/entitlements/\(id)/withdraw", key: service.issuer, "{}", status: .ok)
            _ = try await Self.call(client, "/v1/entitlements/\(id)/cancel", key: service.issuer, "{}", status: .conflict, code: "subscription_ended")
            let types = try await WebhookTests.feed(client, service.auditor).map { $0["type"] as? String ?? "" }
            #expect(!types.contains("subscription.cancelled"))
        }
    }

    // MARK: 12, 15 — ids in paths, one text rule

    @Test("a malformed entitlement id in a path is 422 id_invalid, as in a body; reasons follow the one text rule")
    func idsAndText() async throws {
        let service = try await TestService()
        try await service.app.test(.router) { client in
            for id in ["a%20b", String(repeating: "a", count: 65), "-x", "%00", "%E2%80%AE"] {
                _ = try await Self.call(client, "/v1/entitlements/\(id)", .get, key: service.issuer, status: .unprocessableContent, code: "id_invalid")
                _ = try await Self.call(client, "/v1/entitlements/\(id)/revoke", key: service.issuer, #"{"reason":"x"}"#,
                                        status: .unprocessableContent, code: "id_invalid")
            }
        }
        #expect(DisplayText.violation(in: "a\u{0}b", "reason", maxLength: 10) != nil)
        #expect(DisplayText.violation(in: "a\u{202E}b", "reason", maxLength: 10) != nil)
        #expect(DisplayText.violation(in: "   ", "reason", maxLength: 10) != nil)
        #expect(throws: APIError.self) { try PeriodRoutes.checkReason("bad\u{0}") }
        #expect(throws: APIError.self) { try PeriodRoutes.checkReason("evil\u{202E}txt") }
        #expect(throws: InvoicingError.self) { try LegalParty.text("Firma\u{202E}", "name", max: 40) }
    }

    // MARK: 16 — defaults

    @Test("the default rules do not warn: clawback_days covers the longest default withdrawal period")
    func defaultRules() throws {
        let rules = try RuleSet(json: String(contentsOf: TestPaths.file("fixtures/revenue/rules.json"), encoding: .utf8))
        #expect(rules.clawbackDays >= Int64(WithdrawalPolicy().defaultDays) + 1)
    }

    // MARK: review findings

    @Test("server faults are 500 internal without internals; only client-caused codes are 422")
    func serverFaults() {
        #expect(APIError.from(CryptoError(.openSSL, "EVP_DigestSign failed")).status == .internalServerError)
        #expect(APIError.from(EntitlementError(.signingFailed, "x")).status == .internalServerError)
        #expect(APIError.from(RevenueError(.spillFailed, "/tmp/fod-spill-1: No space left")).detail.contains("/tmp") == false)
        #expect(APIError.from(InvoicingError(.creditNoteInvalid, "x")).status == .internalServerError)
        #expect(APIError.from(EntitlementError(.vinMalformed, "x")).status == .unprocessableContent)
        #expect(APIError.from(CoreError(.instantInvalid, "x")).status == .unprocessableContent)
        #expect(APIError.from(InvoicingError(.masterDataIncomplete, "x")).status == .unprocessableContent)
    }

    @Test("the group-commit queue is bounded (store_busy beyond) and a caller cancelled while waiting leaves it")
    func batcherBounds() async throws {
        let gate = AsyncStream<Void>.makeStream()
        let handled = Counter(), taken = Counter()
        let batcher = Batcher<Int, Int>(maxBatch: 1, maxWaiting: 3, call: { group in
            let (records, _) = group.take()
            taken.add(records)
            for await _ in gate.stream { break }
            handled.add(records)
            return records.map { .success($0) }
        })
        let first = Task { try await batcher.submit(0) }   // taken at once, held at the gate
        while taken.values.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        let waiting = (1...3).map { n in Task { try await batcher.submit(n) } }
        while batcher.waitingCount < 3 { try await Task.sleep(for: .milliseconds(10)) }
        await #expect(throws: StoreError(.busy, "")) { try await batcher.submit(4) }
        waiting[0].cancel()
        await #expect(throws: CancellationError.self) { try await waiting[0].value }
        for _ in 0..<4 { gate.continuation.yield() }
        #expect(try await first.value == 0)
        let second = try await waiting[1].value, third = try await waiting[2].value
        #expect(second == 2 && third == 3)
        #expect(!handled.values.contains(1), "the cancelled record was never handled")
    }

    @Test("readiness reuses a success for a second and never a failure; the dealer page's month summary is reused only at the same ledger position")
    func caches() {
        let readiness = ReadinessCache()
        #expect(!readiness.recentlyReady())
        readiness.record(true)
        #expect(readiness.recentlyReady())
        readiness.record(false)
        #expect(!readiness.recentlyReady(), "an instance that is not ready is checked again at the next probe")
        let months = MonthSummaryCache()
        months.keep(MonthSummaryCache.Summary(values: ["payable": "1.00"]), dealer: "DE-10001", period: "2026-11", mark: 7)
        #expect(months.summary(dealer: "DE-10001", period: "2026-11", mark: 7)?.values["payable"] as? String == "1.00")
        #expect(months.summary(dealer: "DE-10001", period: "2026-11", mark: 8) == nil, "an event recorded since: computed again")
        #expect(months.summary(dealer: "DE-10001", period: "2026-12", mark: 7) == nil)
        #expect(months.summary(dealer: "DE-10002", period: "2026-11", mark: 7) == nil)
    }

    @Test("name resolution has its own bounded lane: beyond 16 waiting a check is refused at once instead of queueing")
    func resolverLane() async throws {
        let slow: WebhookResolver = { _ in
            Thread.sleep(forTimeInterval: 0.3)
            return ["93.184.215.14"]
        }
        let checks = (0..<16).map { _ in Task { try await WebhookURL.checkResolvedInTime("hooks.example", allowPrivate: false, resolve: slow) } }
        try await Task.sleep(for: .milliseconds(100))
        let started = ContinuousClock.now
        await #expect(throws: APIError.self) { try await WebhookURL.checkResolvedInTime("hooks.example", allowPrivate: false, resolve: slow) }
        #expect(ContinuousClock.now - started < .milliseconds(250), "refused without waiting")
        var resolved = 0
        for check in checks { if (try? await check.value) == "93.184.215.14" { resolved += 1 } }
        #expect(resolved == 16)
    }

    @Test("attested time for anyone is rate-limited by a token bucket on the monotonic clock")
    func tokenBucket() async throws {
        let bucket = TokenBucket(perSecond: 20, burst: 5)
        #expect((0..<5).allSatisfy { _ in bucket.take() })
        #expect(!bucket.take())
        try await Task.sleep(for: .milliseconds(150))
        #expect(bucket.take())
    }

    @Test("a revocation stamped by a wall clock stepped back is still seen by the revocation cache", arguments: StoreBackend.all)
    func clockSteppedBack(backend: StoreBackend) async throws {
        let clock = SettableClock(TestService.now)
        let service = try await TestService(backend, clock: clock)
        try await service.app.test(.router) { client in
            let sold = try await Self.sell(client, service, #"{"vin":"WAUZZZF45RA000001","feature":"NAV_PLUS","term":"P1Y"}"#)
            let token = sold["token"] as? String ?? ""
            _ = try await Self.call(client, "/v1/verify", key: service.issuer, #"{"token":"\#(token)"}"#, status: .ok)
            clock.set(TestService.now - 3600)
            // Another instance (its own connection) revokes it with the stepped-back time.
            let other = try await service.database.reopen()
            try await other.revoke(entitlement: try EntitlementID(sold["id"] as? String ?? ""), reason: "test", actor: "other", at: TestService.now - 3600)
            // (Verification now also says issued_in_future: the token's iat is ahead of the clock.)
            let id = try EntitlementID(sold["id"] as? String ?? "")
            var seen = false
            for _ in 0..<40 where !seen {
                try await Task.sleep(for: .milliseconds(100))
                try await service.services.revocations.refreshIfDue()
                seen = try service.services.revocations.isRevoked(id)
            }
            #expect(seen, "\(token.prefix(10))")
        }
    }

    @Test("the events export is read page by page and is the same as one read")
    func exportPages() async throws {
        let service = try await TestService()
        try await service.app.test(.router) { client in
            for vin in ["WAUZZZF45RA000001", "WAUZZZFY7P2000002"] {
                for feature in ["NAV_PLUS", "ACC", "MATRIX_LED"] {
                    _ = try await client.execute(uri: "/v1/activations", method: .post, headers: headers(service.dealer1, idempotency: vin + feature),
                                                 body: body(#"{"vin":"\#(vin)","feature":"\#(feature)","term":"P1M"}"#)) { $0.status }
                }
            }
            let streamed = try await client.execute(uri: "/v1/exports/events", method: .get, headers: headers(service.auditor)) { String(buffer: $0.body) }
            let database = SQLiteStore(try FoDDatabase(path: service.folder.appendingPathComponent("fod.sqlite").path))
            let whole = Counter(), paged = Counter()
            try await database.exportEvents(EventQuery(), pageSize: 1_000) { whole.add($0.map(Int.init)) }
            try await database.exportEvents(EventQuery(), pageSize: 2) { paged.add($0.map(Int.init)) }
            let bytes = whole.values.map(UInt8.init)
            #expect(whole.values == paged.values && String(decoding: bytes, as: UTF8.self) == streamed)
            #expect(streamed.split(separator: "\n").count >= 4 && streamed.components(separatedBy: "event_id,").count == 2, "one header")
        }
    }
}

/// Records handled by a test's batcher call.
final class Counter: Sendable {
    private let seen = Mutex<[Int]>([])
    func add(_ values: [Int]) { seen.withLock { $0 += values } }
    var values: [Int] { seen.withLock { $0 } }
}

/// The PostgreSQL store's bounded calls and TLS settings (no database needed).
@Suite("PostgreSQL store bounds")
struct PostgresBoundsTests {
    @Test("a bounded call returns its result, gives store_busy at its limit and cancels the work, and passes the caller's cancellation on")
    func bounded() async throws {
        #expect(try await PostgresStore.bounded(.seconds(5), "quick") { 42 } == 42)
        let cancelled = Counter()
        let started = ContinuousClock.now
        await #expect(throws: StoreError(.busy, "")) {
            try await PostgresStore.bounded(.milliseconds(100), "slow") {
                do { try await Task.sleep(for: .seconds(30)) } catch { cancelled.add([1]) }
                return 0
            }
        }
        #expect(ContinuousClock.now - started < .seconds(5))
        try await Task.sleep(for: .milliseconds(100))
        #expect(cancelled.values == [1], "the abandoned work was cancelled")

        let caller = Task { try await PostgresStore.bounded(.seconds(3600), "held") { try await Task.sleep(for: .seconds(30)); return 0 } }
        try await Task.sleep(for: .milliseconds(100))
        caller.cancel()
        let outcome = await caller.result
        #expect(throws: CancellationError.self) { try outcome.get() }
    }

    @Test("one definition of the TLS settings: sslrootcert only with verify-full, no verification for prefer and require")
    func tlsSettings() throws {
        #expect(try PostgresStore.tlsSettings(try DatabaseURL("postgres://u@db.example/fod?sslmode=disable")) == nil)
        for mode in ["prefer", "require"] {
            let settings = try #require(try PostgresStore.tlsSettings(try DatabaseURL("postgres://u@db.example/fod?sslmode=\(mode)")))
            #expect(settings.certificateVerification == .none)
        }
        let full = try #require(try PostgresStore.tlsSettings(try DatabaseURL("postgres://u@db.example/fod?sslmode=verify-full")))
        #expect(full.certificateVerification == .fullVerification)
        #expect(throws: StoreError.self) {
            try PostgresStore.tlsSettings(try DatabaseURL("postgres://u@db.example/fod?sslmode=verify-full&sslrootcert=/no/such/ca.pem"))
        }
    }
}

extension HardeningIITests {
    @Test("every problem code added here has its title (the table has no key twice: a duplicate traps at first use)")
    func problemTitles() {
        for code in ["consent_invalid", "transfer_pending", "effective_at_before_registration", "effective_at_out_of_range", "subscription_ended",
                     "after_beyond_newest", "amount_implausible", "adjustment_total_exceeded", "dealer_not_found", "rate_limited", "internal"] {
            #expect(!ProblemTitles.title(code).isEmpty)
        }
    }
}
