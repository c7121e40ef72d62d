import FoDCore
import FoDEntitlements
import FoDStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// The back office at `/admin` (docs/back-office.md): people sign in through the company's identity
/// provider (OpenID Connect, authorization code with PKCE) — or, where none is configured, with an
/// API key of a staff role — and act as themselves: the audit log names them. Server-rendered like
/// the dealer page; every state change is a POST carrying the session's CSRF token.
struct AdminWebRoutes {
    let services: FoDServices
    let pages: DealerPages
    let alwaysSecure: Bool

    static let session = "fod_admin_session"
    static let pending = "fod_admin_oidc"
    static let loginCSRF = "fod_admin_login_csrf"
    /// At most eight hours, and half an hour without a request.
    static let lifetime: Int64 = 8 * 3600
    static let idle: Int64 = 1800

    var csrfTokens: DealerSessionCookies.LoginCSRF { DealerSessionCookies.LoginCSRF(key: services.loginCSRFKey) }
    var now: Int64 { services.clock.unixSeconds() }

    /// A cookie of the back office: HttpOnly, `SameSite=Lax` (the way back from the provider is a
    /// top-level navigation from its site; every change is a POST with the session's CSRF token).
    func cookie(_ name: String, _ value: String, path: String = "/admin", maxAge: Int, _ request: Request) -> HTTPField {
        HTTPField(name: .setCookie, value: DealerSessionCookies.cookie(name, value, path: path, sameSite: "Lax", maxAge: maxAge,
                                                                      secure: DealerSessionCookies.isSecure(request, alwaysSecure: alwaysSecure)))
    }

    func register(on router: Router<FoDRequestContext>) {
        router.get("/admin/style.css") { _, _ in pages.stylesheetResponse() }
        router.get("/admin/login") { request, context in
            if (try? await currentSession(request)) ?? nil != nil { return DealerPages.redirect("/admin") }
            return loginPage(request, error: nil)
        }
        router.post("/admin/login") { request, context in
            await guarded(context, session: nil) {
                guard services.oidc == nil else {
                    throw APIError(.notFound, "key_sign_in_disabled", "People sign in through the company's identity provider here.")
                }
                let form = try await DealerSessionCookies.form(request)
                guard let expected = request.cookies[AdminWebRoutes.loginCSRF]?.value, DealerSessionCookies.matches(form["csrf"], expected),
                      csrfTokens.isValid(expected, now: now) else {
                    return loginPage(request, error: ("The sign-in form had expired.", "Please enter your key again."), status: .forbidden)
                }
                let secret = (form["key"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
                guard !secret.isEmpty, secret.utf8.count <= 200, let principal = try await services.store.authenticate(secret: secret, at: now) else {
                    context.logger.info("back office sign-in failed")
                    return loginPage(request, error: ("This key was not accepted.", "Check it and try again."), status: .unauthorized)
                }
                guard principal.role != .dealer else {
                    return loginPage(request, error: ("This is a dealer key.", "Dealers use the dealer page at /dealer."), status: .forbidden)
                }
                return try await startSession(request, subject: "key:\(principal.keyID)", name: "API key \(principal.keyID)", roles: [principal.role])
            }
        }
        router.get("/admin/oidc/start") { request, context in
            await guarded(context, session: nil) {
                guard let client = services.oidcClient else { throw APIError(.notFound, "oidc_not_configured", "No identity provider is configured.") }
                let pending = PendingSignIn.make(now: now)
                let location = try await client.authorizationURL(pending, now: now)
                var headers = HTTPFields()
                headers.append(cookie(AdminWebRoutes.pending, pending.cookie(key: services.loginCSRFKey), path: "/admin/oidc",
                                      maxAge: Int(PendingSignIn.lifetime), request))
                headers[.location] = location
                headers[.cacheControl] = "no-store"
                return Response(status: .found, headers: headers)
            }
        }
        router.get("/admin/oidc/callback") { request, context in
            await guarded(context, session: nil) {
                guard let client = services.oidcClient, let settings = services.oidc else {
                    throw APIError(.notFound, "oidc_not_configured", "No identity provider is configured.")
                }
                let query = request.uri.queryParameters
                let pending = PendingSignIn.read(request.cookies[AdminWebRoutes.pending]?.value, key: services.loginCSRFKey, now: now)
                let signIn = OIDCSignIn(settings: settings, exchange: { code, verifier in try await client.exchange(code: code, verifier: verifier, now: now) },
                                        keys: { refresh in try await client.provider(refresh: refresh, now: now).keys }, usedStates: services.usedSignInStates)
                let (claims, roles) = try await signIn.complete(code: query["code"].map(String.init), state: query["state"].map(String.init),
                                                                error: query["error"].map(String.init), pending: pending, now: now)
                var response = try await startSession(request, subject: claims.subject, name: claims.name ?? claims.subject, roles: roles)
                response.headers.append(cookie(AdminWebRoutes.pending, "", path: "/admin/oidc", maxAge: 0, request))
                return response
            }
        }
        router.post("/admin/logout") { request, context in
            await withSession(request, context) { session in
                let form = try await DealerSessionCookies.form(request)
                try requireCSRF(form, session)
                if let value = request.cookies[AdminWebRoutes.session]?.value { try await services.store.endStaffSession(cookie: value, at: now) }
                var headers = HTTPFields()
                headers.append(cookie(AdminWebRoutes.session, "", maxAge: 0, request))
                return DealerPages.redirect("/admin/login", headers: headers)
            }
        }
        router.get("/admin") { request, context in
            await withSession(request, context) { session in
                pages.page("admin_home", base(session, title: "Back office"))
            }
        }
        router.get("/admin/vehicles") { request, context in
            await withSession(request, context) { _ in
                let vin = try VIN(request.uri.queryParameters["vin"].map(String.init) ?? "")
                return DealerPages.redirect("/admin/vehicles/\(vin.value)")
            }
        }
        router.get("/admin/vehicles/{vin}") { request, context in
            await withSession(request, context) { session in
                let query = request.uri.queryParameters
                // What the page says it did: only values it could have set (an entitlement id, a count).
                let shown = query["id"].map(String.init).flatMap { text in (try? EntitlementID(text)).map(\.value) ?? Int(text).map(String.init) } ?? ""
                let notice = query["done"].flatMap { try? EntitlementID(String($0)) }.map { "Revoked \($0.value)." }
                    ?? query["did"].flatMap { did in ["Reinstated", "Refunded", "Withdrawn", "Transferred"].contains(String(did)) ? String(did) : nil }
                        .map { did in did == "Transferred" ? "The change of owner is recorded (\(shown) entitlement(s) end or are revoked)." : "\(did) \(shown)." }
                return try await vehiclePage(try VIN(context.path("vin")), session, notice: notice)
            }
        }
        router.post("/admin/vehicles/{vin}/revoke") { request, context in
            await withSession(request, context) { session in
                let (vin, form) = try await vehicleForm(request, context, session)
                let id = try EntitlementID(form["entitlement"] ?? "")
                let reasons = ["fraud", "chargeback", "customer_request", "recall", "issued_in_error", "other"]
                guard let reason = form["reason"], reasons.contains(reason) else {
                    throw APIError(.unprocessableContent, "reason_invalid", "Choose a reason from the list.")
                }
                let comment = try AdminWebRoutes.comment(form)
                try await requireEntitlement(id, of: vin)
                try await IssuingService(services: services).revoke(id, reason: "\(reason): \(comment)", actor: session.acting(as: .issuer).actor)
                return DealerPages.redirect("/admin/vehicles/\(vin.value)?done=\(id.value)")
            }
        }
        router.post("/admin/vehicles/{vin}/act") { request, context in
            await withSession(request, context) { session in
                let (vin, form) = try await vehicleForm(request, context, session)
                let id = try EntitlementID(form["entitlement"] ?? "")
                try await requireEntitlement(id, of: vin)
                let comment = try AdminWebRoutes.comment(form)
                let issuing = IssuingService(services: services)
                let principal = session.acting(as: .issuer)
                let done: String
                switch form["action"] {
                case "reinstate":
                    try await issuing.reinstate(id, reason: comment, actor: principal.actor)
                    done = "Reinstated"
                case "refund":
                    try await issuing.refund(id, actor: principal.actor)
                    done = "Refunded"
                case "withdraw":
                    _ = try await issuing.withdraw(id, note: comment, principal: principal)
                    done = "Withdrawn"
                default:
                    throw APIError(.unprocessableContent, "action_invalid", "Choose an action from the list.")
                }
                return DealerPages.redirect("/admin/vehicles/\(vin.value)?did=\(done)&id=\(id.value)")
            }
        }
        router.post("/admin/vehicles/{vin}/transfer") { request, context in
            await withSession(request, context) { session in
                let (vin, form) = try await vehicleForm(request, context, session)
                let effective = max(try AdminWebRoutes.day(form["effective"], "effective") ?? now, now)
                let plan = try await TransferService(services: services).transfer(vin, effectiveAt: effective, actor: session.acting(as: .issuer).actor)
                return DealerPages.redirect("/admin/vehicles/\(vin.value)?did=Transferred&id=\(plan.ending.count + plan.revoked.count)")
            }
        }
        registerProposals(on: router)
        registerAudit(on: router)
        registerWebhooks(on: router)
        registerMasterData(on: router)
        registerPeriods(on: router)
    }

    /// A form posted on a vehicle's page: the VIN, the fields; the CSRF token and the issuer role checked.
    private func vehicleForm(_ request: Request, _ context: FoDRequestContext, _ session: StaffSession) async throws -> (VIN, [String: String]) {
        let vin = try VIN(context.path("vin"))
        let form = try await postedForm(request, session, role: .issuer)
        return (vin, form)
    }

    /// `id` must be an entitlement of `vin` (a form names it; the page showed only those).
    private func requireEntitlement(_ id: EntitlementID, of vin: VIN) async throws {
        guard try await services.store.entitlements(of: vin).contains(where: { $0.claims.id == id }) else {
            throw APIError(.notFound, "entitlement_not_found", "\(id) is not an entitlement of \(vin).")
        }
    }

    /// A form's date (`YYYY-MM-DD`, the day's start in UTC); `nil` when left empty.
    /// - Throws: ``APIError`` 422 `NAME_invalid`.
    static func day(_ text: String?, _ name: String) throws -> Int64? {
        guard let text, !text.isEmpty else { return nil }
        guard text.utf8.count == 10, let start = Timestamp.parseSeconds(text + "T00:00:00Z") else {
            throw APIError(.unprocessableContent, "\(name)_invalid", "The date is YYYY-MM-DD.")
        }
        return start
    }

    /// A form's comment: required, at most 400 characters.
    static func comment(_ form: [String: String]) throws -> String {
        let comment = (form["comment"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !comment.isEmpty, comment.count <= 400 else { throw APIError(.unprocessableContent, "comment_invalid", "Write a comment (up to 400 characters).") }
        return comment
    }

    /// An instant for a page: RFC 3339, or its date with `day`. Only years 0000 to 9999 are written
    /// (the first version of a plan is in force from the beginning of time, `Int64.min`).
    static func shown(_ seconds: Int64?, day: Bool = false) -> String {
        guard let seconds else { return "—" }
        guard seconds >= -62_167_219_200 else { return "the beginning" }
        guard seconds <= 253_402_300_799 else { return "—" }
        let text = Instant(unixSeconds: seconds).rfc3339
        return day ? String(text.prefix(10)) : text
    }

    private func startSession(_ request: Request, subject: String, name: String, roles: [Role]) async throws -> Response {
        let (value, _) = try await services.store.createStaffSession(subject: subject, name: name, roles: roles, lifetime: AdminWebRoutes.lifetime, at: now)
        var headers = HTTPFields()
        headers.append(cookie(AdminWebRoutes.session, value, maxAge: Int(AdminWebRoutes.lifetime), request))
        headers.append(cookie(AdminWebRoutes.loginCSRF, "", maxAge: 0, request))
        return DealerPages.redirect("/admin", headers: headers)
    }

    private func vehiclePage(_ vin: VIN, _ session: StaffSession, notice: String?) async throws -> Response {
        guard let (vehicle, entitlements) = try await services.store.vehicleWithEntitlements(vin) else {
            throw APIError(.notFound, "vehicle_not_found", "\(vin) is not registered.")
        }
        let time = now
        func day(_ seconds: Int64?) -> String { AdminWebRoutes.shown(seconds, day: true) }
        let rows: [[String: Any]] = entitlements.sorted { $0.claims.notBefore > $1.claims.notBefore }.map { stored in
            let claims = stored.claims
            let state: String
            if let revoked = stored.revokedAt { state = "revoked \(day(revoked))" + (stored.revokeReason.map { " (\($0))" } ?? "") }
            else if let end = claims.expiresAt, end <= time { state = "ended" }
            else if claims.notBefore > time { state = "starts \(day(claims.notBefore))" }
            else { state = "active" }
            return ["id": claims.id.value, "feature": claims.feature.value, "term": claims.term.rawValue, "from": day(claims.notBefore),
                    "until": claims.expiresAt.map { day($0) } ?? "permanent", "state": state, "live": stored.revokedAt == nil && (claims.expiresAt.map { $0 > time } ?? true)]
        }
        var values = base(session, title: vin.value)
        values["vin"] = vin.value
        values["model"] = vehicle.model
        values["modelYear"] = vehicle.modelYear
        values["market"] = vehicle.market.code
        values["servicing"] = vehicle.servicingDealer?.value ?? "—"
        values["entitlements"] = rows
        values["hasEntitlements"] = !rows.isEmpty
        let live = rows.filter { $0["live"] as? Bool == true }
        values["live"] = live
        values["hasLive"] = !live.isEmpty
        values["canRevoke"] = session.holds(.issuer)
        let subjects = [vin.value] + entitlements.map(\.claims.id.value)
        let timeline = try await services.store.auditEntries(subjects: subjects, limit: 200)
        values["timeline"] = timeline.map(AdminWebRoutes.entryRow)
        values["hasTimeline"] = !timeline.isEmpty
        if let notice { values["notice"] = notice }
        return pages.page("admin_vehicle", values)
    }

    /// An audit entry as a table row.
    static func entryRow(_ entry: AuditEntry) -> [String: Any] {
        ["seq": entry.seq, "at": AdminWebRoutes.shown(entry.at), "actor": entry.actor, "action": entry.action, "subject": entry.subject,
         "details": String(entry.details.prefix(300))]
    }

    func base(_ session: StaffSession, title: String) -> [String: Any] {
        ["title": title, "csrf": session.csrf,
         "session": ["name": session.name, "roles": session.roles.map(\.rawValue).joined(separator: ", "), "csrf": session.csrf]]
    }

    private func currentSession(_ request: Request) async throws -> StaffSession? {
        guard let value = request.cookies[AdminWebRoutes.session]?.value, !value.isEmpty, value.utf8.count <= 100 else { return nil }
        return try await services.store.staffSession(cookie: value, idle: AdminWebRoutes.idle, at: now)
    }

    func withSession(_ request: Request, _ context: FoDRequestContext, _ body: (StaffSession) async throws -> Response) async -> Response {
        let session: StaffSession?
        do { session = try await currentSession(request) } catch { return errorPage(error, context, session: nil) }
        guard let session else { return DealerPages.redirect("/admin/login") }
        return await guarded(context, session: session) { try await body(session) }
    }

    private func guarded(_ context: FoDRequestContext, session: StaffSession?, _ body: () async throws -> Response) async -> Response {
        do { return try await body() } catch { return errorPage(error, context, session: session) }
    }

    private func errorPage(_ error: any Error, _ context: FoDRequestContext, session: StaffSession?) -> Response {
        let mapped = APIError.from(error)
        if mapped.status.code >= 500 { context.logger.error("back office page failed", metadata: ["code": .string(mapped.code)]) }
        var values: [String: Any] = ["title": "Not done", "heading": "That did not work.", "message": mapped.detail, "code": mapped.code]
        if let session { values.merge(base(session, title: "Not done")) { _, new in new } }
        return pages.page("admin_error", values, status: mapped.status)
    }

    /// A posted form's fields, its CSRF token checked and `role` required of the person.
    func postedForm(_ request: Request, _ session: StaffSession, role: Role) async throws -> [String: String] {
        let form = try await DealerSessionCookies.form(request)
        try requireCSRF(form, session)
        try requireRole(role, session)
        return form
    }

    func requireCSRF(_ form: [String: String], _ session: StaffSession) throws {
        guard DealerSessionCookies.matches(form["csrf"], session.csrf) else {
            throw APIError(.forbidden, "csrf_invalid", "This form has expired or did not come from this page. Go back, reload the page and try again.")
        }
    }

    private func loginPage(_ request: Request, error: (String, String)?, status: HTTPResponse.Status = .ok) -> Response {
        var values: [String: Any] = ["title": "Sign in"]
        var headers = HTTPFields()
        if services.oidc != nil {
            values["oidc"] = true
        } else {
            let token = csrfTokens.make(now: now)
            headers.append(cookie(AdminWebRoutes.loginCSRF, token, maxAge: 3600, request))
            values["keyForm"] = true
            values["csrf"] = token
        }
        if let error { values["error"] = ["heading": error.0, "message": error.1] }
        return pages.page("admin_login", values, status: status, headers: headers)
    }
}
