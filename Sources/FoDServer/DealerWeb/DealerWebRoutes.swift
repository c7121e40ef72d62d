import FoDAPI
import FoDCore
import FoDCrypto
import FoDEntitlements
import FoDInvoicing
import FoDQRCode
import FoDRevenue
import FoDStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// The dealer web page at `/dealer`: sign in with a dealer key, look a VIN up, see what is active
/// and what can be booked, activate with one confirmation, see the result with a QR code of the
/// token, and the month's own activations with their commission. Server-rendered, no JavaScript.
/// Every state change is a POST carrying the session's CSRF token; activations go through
/// ``ActivationFlow`` with an idempotency key minted on the confirmation page, so a double click
/// or a resubmitted form books once.
struct DealerWebRoutes {
    let services: FoDServices
    let pages: DealerPages
    /// Mark cookies Secure even when the request does not show TLS (`--secure-cookies`).
    let alwaysSecure: Bool
    /// Makes and checks the sign-in form's CSRF tokens (a key shared by every instance).
    var loginCSRF: DealerSessionCookies.LoginCSRF { DealerSessionCookies.LoginCSRF(key: services.loginCSRFKey) }

    func register(on router: Router<FoDRequestContext>) {
        router.get("/dealer/style.css") { _, _ in pages.stylesheetResponse() }
        router.get("/dealer/login") { request, _ in
            if try await currentSession(request) != nil { return DealerPages.redirect("/dealer") }
            return loginPage(request, error: nil)
        }
        router.post("/dealer/login") { request, context in
            try await guarded(request, context, session: nil) {
                let form = try await DealerSessionCookies.form(request)
                guard let expected = request.cookies[DealerSessionCookies.loginCSRF]?.value,
                      DealerSessionCookies.matches(form["csrf"], expected),
                      loginCSRF.isValid(expected, now: services.clock.unixSeconds()) else {
                    return loginPage(request, error: ("The sign-in form had expired.", "Please enter your key again."), status: .forbidden)
                }
                let secret = (form["key"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
                guard !secret.isEmpty, secret.utf8.count <= 200, let principal = try await services.store.authenticate(secret: secret, at: services.clock.unixSeconds()) else {
                    context.logger.info("dealer page sign-in failed")
                    return loginPage(request, error: ("This key was not accepted.", "Check it and try again, or ask the manufacturer for a new one."),
                                     status: .unauthorized)
                }
                guard principal.role == .dealer, principal.dealer != nil else {
                    return loginPage(request, error: ("This is not a dealer key.", "The dealer page is for dealership keys only."), status: .forbidden)
                }
                let (cookie, _) = try await services.store.createSession(for: principal, lifetime: DealerSessionCookies.lifetime, at: services.clock.unixSeconds())
                let secure = DealerSessionCookies.isSecure(request, alwaysSecure: alwaysSecure)
                var headers = HTTPFields()
                headers.append(HTTPField(name: .setCookie, value: DealerSessionCookies.cookie(DealerSessionCookies.session, cookie,
                                                                                               maxAge: Int(DealerSessionCookies.lifetime), secure: secure)))
                headers.append(HTTPField(name: .setCookie, value: DealerSessionCookies.cookie(DealerSessionCookies.loginCSRF, "", maxAge: 0, secure: secure)))
                return DealerPages.redirect("/dealer", headers: headers)
            }
        }
        router.post("/dealer/logout") { request, context in
            try await withSession(request, context) { session in
                let form = try await DealerSessionCookies.form(request)
                try requireCSRF(form, session)
                if let cookie = request.cookies[DealerSessionCookies.session]?.value {
                    try await services.store.endSession(cookie: cookie, at: services.clock.unixSeconds())
                }
                var headers = HTTPFields()
                headers.append(HTTPField(name: .setCookie, value: DealerSessionCookies.cookie(
                    DealerSessionCookies.session, "", maxAge: 0, secure: DealerSessionCookies.isSecure(request, alwaysSecure: alwaysSecure))))
                return DealerPages.redirect("/dealer/login", headers: headers)
            }
        }
        router.get("/dealer") { request, context in
            try await withSession(request, context) { session in
                var values = try await base(session, title: "Look up a vehicle")
                values.merge(try await month(session)) { $1 }
                let now = services.clock.unixSeconds()
                let ending = try await services.store.expiring(at: now, until: now + 42 * 86_400, dealer: session.principal.dealer)
                if !ending.isEmpty { values["ending"] = ["items": DealerViews.ending(ending, catalog: services.catalog)] }
                let notes = try await services.store.creditNotes(period: nil, dealer: session.principal.dealer?.value ?? "")
                if !notes.isEmpty { values["creditNotes"] = ["items": notes.reversed().prefix(24).map(DealerViews.creditNoteItem)] }
                return pages.page("home", values)
            }
        }
        router.get("/dealer/vehicle") { request, context in
            try await withSession(request, context) { session in
                let input = request.uri.queryParameters.get("vin") ?? ""
                let (vehicle, entitlements) = try await services.vehicleWithEntitlements(try VIN(input.uppercased()))
                var values = try await base(session, title: vehicle.vin.value)
                values.merge(DealerViews.vehicle(vehicle, entitlements: entitlements, services: services)) { $1 }
                return pages.page("vehicle", values)
            }
        }
        router.get("/dealer/confirm") { request, context in
            try await withSession(request, context) { session in
                let query = request.uri.queryParameters
                var order = try DealerWebRoutes.order(vin: query.get("vin"), feature: query.get("feature"), term: query.get("term"))
                order.extend = query.get("extend") == "1"
                let quote = try await ActivationFlow(services: services).quote(order)
                let (vehicle, feature, price) = (quote.vehicle, quote.feature, quote.price)
                var values = try await base(session, title: "Activate \(feature.name)")
                values.merge([
                    "vin": vehicle.vin.value, "model": vehicle.model, "modelYear": vehicle.modelYear, "name": feature.name,
                    "feature": feature.code.value, "term": order.term.rawValue, "termName": DealerViews.termName(order.term),
                    "gross": price.currency.formatGrouped(minor: price.gross.minor), "currency": price.currency.code,
                    "vat": price.vat.percent, "idempotencyKey": "web-" + DealerSessionCookies.randomToken(),
                    "withdrawalDays": services.withdrawal.days(for: vehicle.market),
                    "extend": order.extend, "startsAt": quote.startsAt.map { DealerViews.date($0) } ?? "",
                ]) { $1 }
                return pages.page("confirm", values)
            }
        }
        router.post("/dealer/activate") { request, context in
            try await withSession(request, context) { session in
                let form = try await DealerSessionCookies.form(request)
                try requireCSRF(form, session)
                guard let key = form["idempotency_key"], ActivationRoutes.isValidKey(key) else {
                    throw APIError(.badRequest, "idempotency_key_required", "The form is incomplete; open the vehicle again and book from there.")
                }
                var order = try DealerWebRoutes.order(vin: form["vin"], feature: form["feature"], term: form["term"])
                order.extend = form["extend"] == "1"
                // Ticked: the customer's express early-start request with the acknowledgement,
                // given now at the counter; not ticked: in person, the withdrawal right stands.
                if form["immediate_start"] == "yes" {
                    order.consent = try Consent(termsVersion: nil, immediateStart: true, acknowledgedAt: services.clock.unixSeconds())
                }
                let requestHash = ActivationFlow.requestHash(order, earlier: [SHA256.hexHash(Array("POST /dealer/activate\n\(ActivationFlow.canonical(order))".utf8))])
                let outcome = try await ActivationFlow(services: services).activate(order, principal: session.principal, idempotencyKey: key, requestHash: requestHash)
                return DealerPages.redirect("/dealer/entitlements/\(outcome.entitlementID.value)")
            }
        }
        router.get("/dealer/quotes") { request, context in
            try await withSession(request, context) { session in
                let flow = QuoteFlow(services: services)
                let quote = try await flow.byCode(request.uri.queryParameters.get("code") ?? "", principal: session.principal)
                var values = try await base(session, title: "Quote \(QuoteCode.display(quote.code))")
                values.merge(try await DealerViews.quote(quote, flow: flow, services: services)) { $1 }
                values["idempotencyKey"] = "web-" + DealerSessionCookies.randomToken()
                return pages.page("quote", values)
            }
        }
        router.post("/dealer/quotes") { request, context in
            try await withSession(request, context) { session in
                let form = try await DealerSessionCookies.form(request)
                try requireCSRF(form, session)
                let vin = try VIN((form["vin"] ?? "").uppercased())
                let items = try form.filter { $0.key.hasPrefix("item-") && !$0.value.isEmpty }.sorted { $0.key < $1.key }.map { name, term in
                    QuoteItemRequest(feature: try FeatureCode(String(name.dropFirst("item-".count))), term: try Term(validating: term))
                }
                guard !items.isEmpty else {
                    throw APIError(.unprocessableContent, "request_invalid", "Choose at least one feature and term for the quote.")
                }
                let quote = try await QuoteFlow(services: services).make(QuoteRequest(vin: vin, items: items, channel: .dealer), principal: session.principal)
                return DealerPages.redirect("/dealer/quotes?code=\(QuoteCode.display(quote.code))")
            }
        }
        router.post("/dealer/quotes/accept") { request, context in
            try await withSession(request, context) { session in
                let form = try await DealerSessionCookies.form(request)
                try requireCSRF(form, session)
                guard let key = form["idempotency_key"], ActivationRoutes.isValidKey(key), let id = form["quote"], let code = form["code"] else {
                    throw APIError(.badRequest, "idempotency_key_required", "The form is incomplete; open the quote again and accept from there.")
                }
                var consent = Consent.inPerson
                if form["immediate_start"] == "yes" {
                    consent = try Consent(termsVersion: nil, immediateStart: true, acknowledgedAt: services.clock.unixSeconds())
                }
                _ = try await QuoteFlow(services: services).accept(id, QuoteAcceptRequest(consent: consent, code: code), principal: session.principal,
                                                                    idempotencyKey: key)
                return DealerPages.redirect("/dealer/quotes?code=\(QuoteCode.display(QuoteCode.normalized(code) ?? ""))")
            }
        }
        router.get("/dealer/entitlements/{id}") { request, context in
            try await withSession(request, context) { session in
                let id = try EntitlementID(context.path("id"))
                guard let stored = try await services.store.entitlement(id), stored.claims.dealer == session.principal.dealer else {
                    throw APIError(.notFound, "entitlement_not_found", "There is no activation \(id) of your dealership.")
                }
                var values = try await base(session, title: "Entitlement")
                values.merge(try DealerViews.result(stored, services: services)) { $1 }
                let issuing = IssuingService(services: services)
                let standing = issuing.standing(stored, sale: try await services.store.sale(of: id), at: services.clock.unixSeconds())
                values.merge(DealerViews.withdrawal(standing)) { $1 }
                return pages.page("result", values)
            }
        }
        router.get("/dealer/credit-notes/{number}") { request, context in
            try await withSession(request, context) { session in
                let note = try await ownCreditNote(context, session)
                var values = try await base(session, title: "\(note.kind.title) \(note.number)")
                values.merge(DealerViews.creditNote(note)) { $1 }
                let objections = try await services.store.objections(creditNote: note.number, dealer: note.dealerID, status: nil)
                values["hasObjections"] = !objections.isEmpty
                values["objections"] = objections.map { ["status": $0.status.rawValue, "reason": $0.reason, "resolution": $0.resolution ?? ""] as [String: Any] }
                return pages.page("creditnote", values)
            }
        }
        router.get("/dealer/credit-notes/{number}/print") { request, context in
            try await withSession(request, context) { session in
                // The document's own inline style; nothing else may load.
                var response = PeriodRoutes.document(try await ownCreditNote(context, session).html(), type: "text/html; charset=utf-8")
                response.headers[DealerPages.contentSecurityPolicy] = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
                return response
            }
        }
        router.get("/dealer/credit-notes/{number}/xml") { request, context in
            try await withSession(request, context) { session in
                var response = PeriodRoutes.document(try await ownCreditNote(context, session).ciiXML(), type: "application/xml; charset=utf-8")
                response.headers[.contentDisposition] = "attachment"
                return response
            }
        }
        router.post("/dealer/credit-notes/{number}/objections") { request, context in
            try await withSession(request, context) { session in
                let form = try await DealerSessionCookies.form(request)
                try requireCSRF(form, session)
                let note = try await ownCreditNote(context, session)
                let reason = (form["reason"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
                guard (1...2000).contains(reason.count) else {
                    throw APIError(.unprocessableContent, "reason_invalid", "Write what is wrong with the credit note (up to 2000 characters).")
                }
                _ = try await services.store.raiseObjection(creditNote: note.number, dealer: note.dealerID, eventID: nil, reason: reason,
                                                            actor: session.principal.actor, at: services.clock.unixSeconds())
                return DealerPages.redirect("/dealer/credit-notes/\(note.number)")
            }
        }
        router.post("/dealer/entitlements/{id}/withdraw") { request, context in
            try await withSession(request, context) { session in
                let form = try await DealerSessionCookies.form(request)
                try requireCSRF(form, session)
                let id = try EntitlementID(context.path("id"))
                _ = try await IssuingService(services: services).withdraw(id, note: nil, principal: session.principal)
                return DealerPages.redirect("/dealer/entitlements/\(id.value)")
            }
        }
    }

    // MARK: - Sessions and errors

    /// The live session of the request's cookie.
    private func currentSession(_ request: Request) async throws -> WebSession? {
        guard let cookie = request.cookies[DealerSessionCookies.session]?.value, !cookie.isEmpty else { return nil }
        guard let session = try await services.store.session(cookie: cookie, at: services.clock.unixSeconds()),
              session.principal.role == .dealer, session.principal.dealer != nil else { return nil }
        return session
    }

    /// Runs `body` for a signed-in dealer; without a session, sends the browser to sign in.
    private func withSession(_ request: Request, _ context: FoDRequestContext,
                             _ body: (WebSession) async throws -> Response) async throws -> Response {
        let session: WebSession?
        do { session = try await currentSession(request) } catch { return await errorPage(error, context, session: nil) }
        guard let session else { return DealerPages.redirect("/dealer/login") }
        return try await guarded(request, context, session: session) { try await body(session) }
    }

    /// Runs `body`, answering any error with a page a person understands.
    private func guarded(_ request: Request, _ context: FoDRequestContext, session: WebSession?,
                         _ body: () async throws -> Response) async throws -> Response {
        do { return try await body() } catch { return await errorPage(error, context, session: session) }
    }

    private func errorPage(_ error: any Error, _ context: FoDRequestContext, session: WebSession?) async -> Response {
        let mapped: APIError
        if let entitlement = error as? EntitlementError, entitlement.code.concernsVIN {
            mapped = APIError(.unprocessableContent, entitlement.code.rawValue,
                              "That is not a valid VIN: \(entitlement.reason). A VIN has 17 letters and digits; I, O and Q do not occur.")
        } else {
            mapped = APIError.from(error)
        }
        if mapped.status == .internalServerError { context.logger.error("dealer page error", metadata: ["error": .string("\(error)")]) }
        let (heading, message) = DealerViews.explain(mapped)
        var values: [String: Any] = ["title": heading, "heading": heading, "error": ["heading": heading, "message": message],
                                     "back": "/dealer", "backLabel": "Back to the start"]
        if let session, let sessionValues = try? await base(session, title: heading) {
            values["session"] = sessionValues["session"]
        }
        return pages.page("error", values, status: mapped.status)
    }

    /// The `{number}` credit note of the signed-in dealer; another's is not found.
    private func ownCreditNote(_ context: FoDRequestContext, _ session: WebSession) async throws -> CreditNote {
        let number = context.path("number")
        guard let note = try await services.store.creditNote(number), note.dealerID == session.principal.dealer?.value else {
            throw APIError(.notFound, "credit_note_not_found", "There is no credit note \(number.prefix(40)) of your dealership.")
        }
        return note
    }

    private func requireCSRF(_ form: [String: String], _ session: WebSession) throws {
        guard DealerSessionCookies.matches(form["csrf"], session.csrf) else {
            throw APIError(.forbidden, "csrf_invalid", "This form has expired or did not come from this page. Go back, reload the page and try again.")
        }
    }

    private func loginPage(_ request: Request, error: (String, String)?, status: HTTPResponse.Status = .ok) -> Response {
        let token = loginCSRF.make(now: services.clock.unixSeconds())
        var headers = HTTPFields()
        headers.append(HTTPField(name: .setCookie, value: DealerSessionCookies.cookie(
            DealerSessionCookies.loginCSRF, token, maxAge: 3600, secure: DealerSessionCookies.isSecure(request, alwaysSecure: alwaysSecure))))
        var values: [String: Any] = ["title": "Sign in", "csrf": token]
        if let error { values["error"] = ["heading": error.0, "message": error.1] }
        return pages.page("login", values, status: status, headers: headers)
    }

    /// Values every signed-in page shows: the dealer and the session's CSRF token.
    private func base(_ session: WebSession, title: String) async throws -> [String: Any] {
        let dealerID = session.principal.dealer?.value ?? ""
        var name = dealerID
        if let dealer = session.principal.dealer, let known = try await services.store.site(dealer) { name = known.name }
        // Who is selling: the site, the partner credited and the salesperson the key names.
        var seller = ""
        if let partner = session.principal.partner, partner.value != dealerID,
           let known = try await services.store.partner(partner)?.version(at: services.clock.unixSeconds()).details.name {
            seller = "\(known) (\(partner))"
        }
        let salesperson = session.principal.salesperson?.value ?? ""
        return ["title": title, "session": ["dealerName": name, "dealerID": dealerID, "csrf": session.csrf],
                "dealerName": name, "dealerID": dealerID, "csrf": session.csrf, "partnerName": seller, "salesperson": salesperson]
    }

    /// The dealer's activations and commission this month, from the same engine as `fod report`;
    /// computed again only when an event was recorded since (``MonthSummaryCache``), not on every view.
    private func month(_ session: WebSession) async throws -> [String: Any] {
        let period = ReportPeriod.text(containing: services.clock.unixSeconds())
        let dealer = session.principal.dealer?.value ?? ""
        let mark = try await services.store.ledgerMark().events
        if let cached = services.monthSummaries.summary(dealer: dealer, period: period, mark: mark) { return cached.values }
        let report = try await StatementsReport.run(services: services, period: period, dealer: session.principal.dealer)
        let lines = try DealerViews.dealerLines(report, dealer: dealer)
        let reasons = try await services.store.attributions(of: lines.map(DealerViews.saleEventID))
        let summary = try DealerViews.month(report, lines: lines, dealer: dealer, catalog: services.catalog, reasons: reasons)
        services.monthSummaries.keep(MonthSummaryCache.Summary(values: summary), dealer: dealer, period: period, mark: mark)
        return summary
    }

    static func order(vin: String?, feature: String?, term: String?) throws -> ActivationRequest {
        ActivationRequest(vin: try VIN((vin ?? "").uppercased()), feature: try FeatureCode(feature ?? ""), term: try Term(validating: term ?? ""))
    }
}
