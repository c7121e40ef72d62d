import FoDAPI
import FoDCore
import FoDEntitlements
import FoDStore
import HTTPTypes
import Hummingbird
import NIOCore

/// Entitlements: one by id, a direct issue, a revocation, and verification of a token.
struct EntitlementRoutes {
    let services: FoDServices

    var collection: RouteCollection<FoDRequestContext> {
        let routes = RouteCollection(context: FoDRequestContext.self)
        routes.group().add(middleware: RoleCheck.require(.issuer, .dealer, .auditor))
            .get("/v1/entitlements/{id}", use: show)
            .post("/v1/verify", use: verify)
        routes.group().add(middleware: RoleCheck.require(.issuer))
            .post("/v1/entitlements", use: issue)
            .post("/v1/entitlements/{id}/revoke", use: revoke)
            .post("/v1/entitlements/{id}/reinstate", use: reinstate)
        routes.group().add(middleware: RoleCheck.require(.issuer, .dealer))
            .post("/v1/entitlements/{id}/withdraw", use: withdraw)
            .post("/v1/entitlements/{id}/cancel", use: cancel)
        routes.group().add(middleware: RoleCheck.require(.issuer, .dealer, .auditor)).get("/v1/entitlements", use: expiring)
        return routes
    }

    /// A dealer sees the entitlements credited to it; another's is not found, as if absent.
    @Sendable func show(_ request: Request, _ context: FoDRequestContext) async throws -> EntitlementBody {
        let principal = try context.caller()
        let id = try PathParameters.entitlementID(context)
        guard let stored = try await services.store.entitlement(id), principal.role != .dealer || stored.claims.dealer == principal.dealer else {
            throw APIError(.notFound, "entitlement_not_found", "no entitlement \(id.value)")
        }
        return EntitlementBody(stored.claims, token: stored.token, active: stored.isActive(at: services.clock.unixSeconds()), revokedAt: stored.revokedAt)
    }

    @Sendable func verify(_ request: Request, _ context: FoDRequestContext) async throws -> VerifyResponse {
        let (body, _) = try await RequestBody.decode(VerifyRequest.self, request, context)
        let claims: EntitlementClaims
        do {
            claims = try await services.verifyEntitlement(body.token, vin: body.vin)
        } catch {
            services.metrics.verification(valid: false)
            throw error
        }
        services.metrics.verification(valid: true)
        return VerifyResponse(claims: claims)
    }

    @Sendable func issue(_ request: Request, _ context: FoDRequestContext) async throws -> EditedResponse<IssueResponse> {
        let principal = try context.caller()
        let (body, _) = try await RequestBody.decode(IssueRequest.self, request, context)
        let issued = try await IssuingService(services: services).issue(vin: body.vin, feature: body.feature, term: body.term, dealer: body.dealer,
                                                                        startsAt: body.startsAt, actor: principal.actor)
        return EditedResponse(status: .created, headers: [.location: PathParameters.entitlementPath(issued.claims.id)],
                              response: IssueResponse(id: issued.claims.id, claims: issued.claims, token: issued.token))
    }

    /// The customer's withdrawal: the OEM backend for any sale, a dealer for its own.
    @Sendable func withdraw(_ request: Request, _ context: FoDRequestContext) async throws -> WithdrawResponse {
        let principal = try context.caller()
        let (body, _) = try await RequestBody.decode(WithdrawRequest.self, request, context)
        let id = try PathParameters.entitlementID(context)
        let end = try await IssuingService(services: services).withdraw(id, note: body.note, principal: principal)
        return WithdrawResponse(id: id, periodEnds: end)
    }

    /// Cancels a subscription at the end of its paid period (a dealer: its own sales).
    @Sendable func cancel(_ request: Request, _ context: FoDRequestContext) async throws -> CancelResponse {
        let principal = try context.caller()
        let id = try PathParameters.entitlementID(context)
        _ = try await IssuingService(services: services).sale(id, for: principal)
        do {
            let ends = try await services.store.cancelSubscription(id, actor: principal.actor, at: services.clock.unixSeconds())
            return CancelResponse(id: ends.claims.id, endsAt: ends.claims.expiresAt)
        } catch let error as StoreError where error.code == .invalid {
            throw APIError(.unprocessableContent, "not_a_subscription", "entitlement \(id.value) is not a subscription: it ends with its term")
        } catch let error as StoreError where error.code == .conflict {
            throw APIError(.conflict, "already_cancelled", "the subscription is cancelled already; it ends with its paid period")
        }
    }

    /// `GET /v1/entitlements?expiring_within=P14D`: what ends within the window (1 to 366 days)
    /// and does not go on — a dealer's own, or (issuer, auditor) all.
    @Sendable func expiring(_ request: Request, _ context: FoDRequestContext) async throws -> ExpiringList {
        let principal = try context.caller()
        guard let text = request.uri.queryParameters.get("expiring_within") else {
            throw APIError(.badRequest, "query_invalid", "expiring_within is required, as days in ISO 8601: P14D")
        }
        guard text.hasPrefix("P"), text.hasSuffix("D"), let days = Int(text.dropFirst().dropLast()), (1...366).contains(days) else {
            throw APIError(.badRequest, "query_invalid", "expiring_within must be P1D to P366D (days, ISO 8601)")
        }
        let limit = try request.uri.queryParameters.get("limit").map { text in
            guard let limit = Int(text), (1...1_000).contains(limit) else { throw APIError(.badRequest, "query_invalid", "limit must be 1 to 1000") }
            return limit
        } ?? 1_000
        let after = try request.uri.queryParameters.get("after").map { text in
            guard let cursor = ExpiringCursor(text) else { throw APIError(.badRequest, "query_invalid", "after must be the next cursor of a page before") }
            return cursor
        }
        let now = services.clock.unixSeconds(), until = now + Int64(days) * 86_400
        let found = try await services.store.expiring(at: now, until: until, dealer: principal.role == .dealer ? principal.dealer : nil,
                                                      after: after, limit: limit)
        let next = found.count == limit ? found.last.flatMap { last in last.claims.expiresAt.map { ExpiringCursor(expiresAt: $0, id: last.claims.id).text } } : nil
        return ExpiringList(until: until, entitlements: found.map {
            EntitlementBody($0.claims, token: $0.token, active: $0.isActive(at: now), revokedAt: $0.revokedAt)
        }, next: next)
    }

    @Sendable func reinstate(_ request: Request, _ context: FoDRequestContext) async throws -> ReinstateResponse {
        let principal = try context.caller()
        let (body, _) = try await RequestBody.decode(RevokeRequest.self, request, context)
        let id = try PathParameters.entitlementID(context)
        try await IssuingService(services: services).reinstate(id, reason: body.reason, actor: principal.actor)
        return ReinstateResponse(id: id)
    }

    @Sendable func revoke(_ request: Request, _ context: FoDRequestContext) async throws -> RevokeResponse {
        let principal = try context.caller()
        let (body, _) = try await RequestBody.decode(RevokeRequest.self, request, context)
        let id = try PathParameters.entitlementID(context)
        try await IssuingService(services: services).revoke(id, reason: body.reason, actor: principal.actor)
        return RevokeResponse(id: id)
    }
}
