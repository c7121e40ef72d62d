import FoDCore
import FoDEntitlements
import FoDServer
import FoDStore
import FoDTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// A browser's cookie jar and form posts against `app.test(.router)`.
struct Browser {
    let client: any TestClientProtocol
    var cookies: [String: String] = [:]
    var lastSetCookies: [String] = []

    mutating func get(_ uri: String) async throws -> TestResponse {
        try await send(uri, .get, body: nil)
    }

    mutating func post(_ uri: String, _ form: [(String, String)]) async throws -> TestResponse {
        let text = form.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
        return try await send(uri, .post, body: text)
    }

    private mutating func send(_ uri: String, _ method: HTTPRequest.Method, body: String?) async throws -> TestResponse {
        var headers = HTTPFields()
        if !cookies.isEmpty { headers[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; ") }
        if body != nil { headers[.contentType] = "application/x-www-form-urlencoded" }
        let response = try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
        lastSetCookies = response.headers[values: .setCookie]
        for line in lastSetCookies {
            let pair = line.split(separator: ";")[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(pair[0]), value = pair.count > 1 ? String(pair[1]) : ""
            if line.contains("Max-Age=0") { cookies.removeValue(forKey: name) } else { cookies[name] = value }
        }
        return response
    }

    /// The value of the hidden input `name` in a page.
    static func hidden(_ name: String, in response: TestResponse) -> String? {
        let html = String(buffer: response.body)
        guard let range = html.range(of: "name=\"\(name)\" value=\"") else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }

    /// Signs in with `key` through the sign-in form.
    mutating func signIn(_ key: String) async throws -> TestResponse {
        let page = try await get("/dealer/login")
        return try await post("/dealer/login", [("key", key), ("csrf", Browser.hidden("csrf", in: page) ?? "")])
    }
}

@Suite("Dealer web page")
struct DealerWebTests {
    static let vin = "WAUZZZF45RA000001"

    @Test("signing in sets an HttpOnly SameSite=Strict session cookie; Secure behind TLS; a wrong key or a missing CSRF token is refused", arguments: StoreBackend.all)
    func signIn(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await service.app.test(.router) { client in
            var browser = Browser(client: client)
            let unauthenticated = try await browser.get("/dealer")
            #expect(unauthenticated.status == .seeOther && unauthenticated.headers[.location] == "/dealer/login")

            // Without the sign-in page's CSRF token: refused, no session.
            let forged = try await browser.post("/dealer/login", [("key", service.dealer1), ("csrf", "forged")])
            #expect(forged.status == .forbidden)
            #expect(browser.cookies["fod_session"] == nil)

            let wrong = try await browser.signIn("fod_000000000000_wrong")
            #expect(wrong.status == .unauthorized)
            #expect(String(buffer: wrong.body).contains("This key was not accepted."))
            #expect(!String(buffer: wrong.body).contains("fod_000000000000_wrong"))

            let issuerKey = try await browser.signIn(service.issuer)
            #expect(issuerKey.status == .forbidden && String(buffer: issuerKey.body).contains("This is not a dealer key."))

            let signedIn = try await browser.signIn(service.dealer1)
            #expect(signedIn.status == .seeOther && signedIn.headers[.location] == "/dealer")
            let session = try #require(browser.lastSetCookies.first { $0.hasPrefix("fod_session=") })
            #expect(session.contains("HttpOnly") && session.contains("SameSite=Strict") && session.contains("Path=/dealer"))
            #expect(!session.contains("Secure"))
            let home = try await browser.get("/dealer")
            #expect(home.status == .ok)
            #expect(String(buffer: home.body).contains("Autohaus Beispiel München"))
            #expect(home.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("default-src 'none'") == true)

            // Behind a TLS proxy the cookie is Secure.
            let page = try await client.execute(uri: "/dealer/login", method: .get, headers: [HTTPField.Name("X-Forwarded-Proto")!: "https"])
            #expect(page.headers[values: .setCookie].allSatisfy { $0.contains("; Secure") })
        }
    }

    @Test("the page shows who is selling: the site, its partner (when the site is one of several) and the key's salesperson")
    func whoIsSelling() async throws {
        let service = try await TestService(.sqlite)
        let key = try await service.services.store.createAPIKey(role: .dealer, dealer: try DealerID("DE-10003"), salesperson: try SalespersonID("S-AUG-01"),
                                                                label: "augsburg", actor: "test", at: TestService.now).secret
        try await service.app.test(.router) { client in
            var browser = Browser(client: client)
            _ = try await browser.signIn(key)
            let home = String(buffer: try await browser.get("/dealer").body)
            #expect(home.contains("Autohaus Beispiel Augsburg") && home.contains("(DE-10003)"), "the site")
            #expect(home.contains("Autohaus Beispiel München (DE-10001)"), "the partner")
            #expect(home.contains("S-AUG-01"), "the salesperson")
        }
    }

    @Test("look up, confirm, activate: credited to the signed-in dealer; a double submit books once; listed as active with its commission", arguments: StoreBackend.all)
    func activation(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await service.app.test(.router) { client in
            var browser = Browser(client: client)
            _ = try await browser.signIn(service.dealer1)
            let vehicle = try await browser.get("/dealer/vehicle?vin=\(DealerWebTests.vin.lowercased())")
            #expect(vehicle.status == .ok)
            let vehicleHTML = String(buffer: vehicle.body)
            #expect(vehicleHTML.contains("Navigation Plus") && vehicleHTML.contains("149.00 EUR") && vehicleHTML.contains("1,339.00 EUR"))

            let confirm = try await browser.get("/dealer/confirm?vin=\(DealerWebTests.vin)&feature=NAV_PLUS&term=P1Y")
            #expect(confirm.status == .ok)
            let form = ["csrf", "vin", "feature", "term", "idempotency_key"].map { ($0, Browser.hidden($0, in: confirm) ?? "") }
            let first = try await browser.post("/dealer/activate", form)
            let second = try await browser.post("/dealer/activate", form)
            #expect(first.status == .seeOther && second.status == .seeOther)
            let location = try #require(first.headers[.location])
            #expect(second.headers[.location] == location)
            let booked = try await service.services.store.entitlements(of: try VIN(DealerWebTests.vin))
            #expect(booked.count == 1)
            #expect(booked.first?.claims.dealer?.value == "DE-10001")
            #expect(try await service.services.store.activationCount() == 1)

            let result = try await browser.get(location)
            let resultHTML = String(buffer: result.body)
            #expect(result.status == .ok)
            #expect(resultHTML.contains(booked[0].claims.id.value) && resultHTML.contains("<svg") && resultHTML.contains(booked[0].token))

            let after = String(buffer: try await browser.get("/dealer/vehicle?vin=\(DealerWebTests.vin)").body)
            #expect(after.contains("<strong>Navigation Plus</strong> — 1 year"))
            let home = String(buffer: try await browser.get("/dealer").body)
            // NAV_PLUS P1Y 149.00 EUR under the fixture rules' pos-nav rule: the report engine's share is 17.03.
            #expect(home.contains("id=\"activations\"") && home.contains("href=\"/dealer/vehicle?vin=\(DealerWebTests.vin)\""))
            #expect(home.contains("Commission so far: <strong>17.03 EUR</strong>"))
            #expect(!home.contains("No activations yet this month."))
        }
    }

    @Test("the confirmation step records the customer's early-start request; the result page offers the withdrawal while it stands, and another dealer cannot",
          arguments: StoreBackend.all)
    func consentAndWithdrawal(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await service.app.test(.router) { client in
            var browser = Browser(client: client)
            _ = try await browser.signIn(service.dealer1)
            func book(_ feature: String, early: Bool) async throws -> String {
                let confirm = try await browser.get("/dealer/confirm?vin=\(DealerWebTests.vin)&feature=\(feature)&term=P1M")
                #expect(String(buffer: confirm.body).contains("within 14 days"))
                var form = ["csrf", "vin", "feature", "term", "idempotency_key"].map { ($0, Browser.hidden($0, in: confirm) ?? "") }
                if early { form.append(("immediate_start", "yes")) }
                let booked = try await browser.post("/dealer/activate", form)
                #expect(booked.status == .seeOther)
                return try #require(booked.headers[.location])
            }
            // Not ticked: given in person, the right stands — the page offers the withdrawal.
            let nav = try await book("NAV_PLUS", early: false)
            let page = try await browser.get(nav)
            #expect(String(buffer: page.body).contains("id=\"withdraw-button\""))
            // Ticked: the early start with the acknowledgement — no withdrawal, and the page says why.
            let acc = try await book("ACC", early: true)
            let accPage = String(buffer: try await browser.get(acc).body)
            #expect(!accPage.contains("id=\"withdraw-button\"") && accPage.contains("acknowledged losing the right"))
            let accID = String(acc.split(separator: "/").last ?? "")
            let sale = try #require(try await service.services.store.sale(of: try EntitlementID(accID)))
            #expect(sale.consent.immediateStart && sale.consent.acknowledgedAt == TestService.now)

            // Another dealer's session cannot withdraw it.
            var other = Browser(client: client)
            _ = try await other.signIn(service.dealer2)
            let otherHome = try await other.get("/dealer")
            let refused = try await other.post("\(nav)/withdraw", [("csrf", Browser.hidden("csrf", in: otherHome) ?? "")])
            #expect(refused.status == .notFound)
            // Without the CSRF token nothing happens; with it, withdrawn.
            #expect(try await browser.post("\(nav)/withdraw", []).status == .forbidden)
            let withdrawn = try await browser.post("\(nav)/withdraw", [("csrf", Browser.hidden("csrf", in: page) ?? "")])
            #expect(withdrawn.status == .seeOther && withdrawn.headers[.location] == nav)
            let after = String(buffer: try await browser.get(nav).body)
            #expect(after.contains("was withdrawn by the customer") && !after.contains("id=\"withdraw-button\"") && !after.contains("<svg"))
        }
    }

    @Test("what ends within six weeks is on the start page; the vehicle page extends it as a sale appended to its end; then it is no longer ending",
          arguments: StoreBackend.all)
    func extending(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await service.app.test(.router) { client in
            var browser = Browser(client: client)
            _ = try await browser.signIn(service.dealer1)
            let confirm = try await browser.get("/dealer/confirm?vin=\(DealerWebTests.vin)&feature=NAV_PLUS&term=P1M")
            let first = try await browser.post("/dealer/activate", ["csrf", "vin", "feature", "term", "idempotency_key"].map { ($0, Browser.hidden($0, in: confirm) ?? "") })
            #expect(first.status == .seeOther)
            let home = String(buffer: try await browser.get("/dealer").body)
            #expect(home.contains("id=\"ending\"") && home.contains("<strong>Navigation Plus</strong>, 1 month, ends"))
            let vehicle = String(buffer: try await browser.get("/dealer/vehicle?vin=\(DealerWebTests.vin)").body)
            #expect(vehicle.contains("id=\"extend-NAV_PLUS-P1Y\""))
            let extend = try await browser.get("/dealer/confirm?vin=\(DealerWebTests.vin)&feature=NAV_PLUS&term=P1Y&extend=1")
            let end = try #require(try await service.services.store.entitlements(of: try VIN(DealerWebTests.vin)).first?.claims.expiresAt)
            #expect(String(buffer: extend.body).contains("an extension, from <span id=\"starts\">\(Instant(unixSeconds: end).displayDate)</span>"))
            let form = ["csrf", "vin", "feature", "term", "idempotency_key", "extend"].map { ($0, Browser.hidden($0, in: extend) ?? "") }
            #expect(try await browser.post("/dealer/activate", form).status == .seeOther)
            let periods = try await service.services.store.entitlements(of: try VIN(DealerWebTests.vin))
            #expect(periods.count == 2 && periods.contains { $0.claims.notBefore == end && $0.claims.term == .oneYear })
            let after = String(buffer: try await browser.get("/dealer").body)
            #expect(!after.contains("id=\"ending\""), "extended: it goes on")
        }
    }

    @Test("forms without the session's CSRF token are refused and book nothing; a session cannot reach the API; another dealer sees none of it", arguments: StoreBackend.all)
    func boundaries(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await service.app.test(.router) { client in
            var first = Browser(client: client)
            _ = try await first.signIn(service.dealer1)
            let confirm = try await first.get("/dealer/confirm?vin=\(DealerWebTests.vin)&feature=NAV_PLUS&term=P1Y")
            var form = ["vin", "feature", "term", "idempotency_key"].map { ($0, Browser.hidden($0, in: confirm) ?? "") }
            let missing = try await first.post("/dealer/activate", form)
            #expect(missing.status == .forbidden && String(buffer: missing.body).contains("This form has expired"))
            form.append(("csrf", "not-the-token"))
            let wrong = try await first.post("/dealer/activate", form)
            #expect(wrong.status == .forbidden)
            #expect(try await service.services.store.activationCount() == 0)
            let logout = try await first.post("/dealer/logout", [("csrf", "not-the-token")])
            #expect(logout.status == .forbidden)

            // The session cookie is no API credential.
            var cookieOnly = HTTPFields()
            cookieOnly[.cookie] = "fod_session=\(first.cookies["fod_session"] ?? "")"
            cookieOnly[.contentType] = "application/json"
            let api = try await client.execute(uri: "/v1/entitlements", method: .post, headers: cookieOnly,
                                               body: ByteBuffer(string: #"{"vin":"WAUZZZF45RA000001","feature":"NAV_PLUS","term":"P1Y"}"#))
            #expect(api.status == .unauthorized)

            // Book properly, then look from the second dealer.
            form[form.count - 1] = ("csrf", Browser.hidden("csrf", in: confirm) ?? "")
            let booked = try await first.post("/dealer/activate", form)
            let location = try #require(booked.headers[.location])
            var second = Browser(client: client)
            _ = try await second.signIn(service.dealer2)
            let home = String(buffer: try await second.get("/dealer").body)
            #expect(home.contains("Autohaus Muster Berlin") && home.contains("No activations yet this month."))
            #expect(!home.contains("id=\"activations\""))
            let foreign = try await second.get(location)
            #expect(foreign.status == .notFound)

            // Signing out ends the session on the server, not only in the browser.
            let stolen = first.cookies["fod_session"] ?? ""
            let home1 = try await first.get("/dealer")
            let out = try await first.post("/dealer/logout", [("csrf", Browser.hidden("csrf", in: home1) ?? "")])
            #expect(out.status == .seeOther)
            #expect(try await service.services.store.session(cookie: stolen, at: TestService.now) == nil)
        }
    }

    @Test("errors are sentences for a person: unknown VIN, bad check digit, missing equipment, already booked", arguments: StoreBackend.all)
    func errors(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await service.app.test(.router) { client in
            var browser = Browser(client: client)
            _ = try await browser.signIn(service.dealer1)
            let unknown = try await browser.get("/dealer/vehicle?vin=1HGCM82633A004352")
            #expect(unknown.status == .notFound && String(buffer: unknown.body).contains("This VIN is not registered: 1HGCM82633A004352"))
            let invalid = try await browser.get("/dealer/vehicle?vin=1HGCM82633A004353")
            #expect(invalid.status == .unprocessableContent && String(buffer: invalid.body).contains("That is not a valid VIN"))
            let short = try await browser.get("/dealer/vehicle?vin=WAUZZZF45RA00000")
            #expect(short.status == .unprocessableContent && String(buffer: short.body).contains("That is not a valid VIN"))
            let garbage = try await browser.get("/dealer/vehicle?vin=%3Cscript%3E")
            #expect(!String(buffer: garbage.body).contains("<script>"))
            // The A4 of DE-10001 has no MMI Plus hardware: Navigation Plus is refused with the reason.
            let a4 = String(buffer: try await browser.get("/dealer/vehicle?vin=WVWZZZ1KZAW394821").body)
            #expect(a4.contains("Navigation Plus</strong>: Navigation Plus needs"))
            let refused = try await browser.get("/dealer/confirm?vin=WVWZZZ1KZAW394821&feature=NAV_PLUS&term=P1Y")
            #expect(refused.status == .unprocessableContent && String(buffer: refused.body).contains("needs"))
            #expect(!String(buffer: refused.body).contains("(rule "))
        }
    }
}
