import FoDAPI
import FoDCore
import FoDEntitlements
import FoDStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Webhook endpoints (admin) and the event feed (auditor, admin; a dealer its own events).
struct WebhookRoutes {
    let services: FoDServices

    var collection: RouteCollection<FoDRequestContext> {
        let routes = RouteCollection(context: FoDRequestContext.self)
        routes.group().add(middleware: RoleCheck.require(.admin))
            .post("/v1/webhooks", use: create)
            .get("/v1/webhooks", use: list)
            .get("/v1/webhooks/{id}", use: show)
            .delete("/v1/webhooks/{id}", use: delete)
            .get("/v1/webhooks/{id}/deliveries", use: deliveries)
            .post("/v1/webhooks/{id}/retry", use: retry)
            .post("/v1/webhooks/{id}/replay", use: replay)
        routes.group().add(middleware: RoleCheck.require(.admin, .auditor, .dealer)).get("/v1/events", use: events)
        return routes
    }

    @Sendable func create(_ request: Request, _ context: FoDRequestContext) async throws -> EditedResponse<WebhookBody> {
        let principal = try context.caller()
        let (body, _) = try await RequestBody.decode(WebhookRequest.self, request, context)
        let url = try WebhookURL.check(body.url, allowPrivate: services.webhooks.allowPrivate)
        let types = Array(Set(body.types ?? [])).sorted()
        let known = Set(Outbox.eventTypes)
        if let unknown = types.first(where: { !known.contains($0) }) {
            throw APIError(.unprocessableContent, "event_type_unknown", "\(unknown.prefix(60)) is not an event type; see docs/api.md")
        }
        if let host = url.host, !services.webhooks.allowPrivate {
            let resolve = services.webhooks.resolve
            _ = try await WebhookURL.checkResolvedInTime(host, allowPrivate: false, resolve: resolve)
        }
        let endpoint = try await services.store.createWebhook(url: body.url, types: types, secret: WebhookSignature.newSecret(),
                                                              actor: principal.actor, at: services.clock.unixSeconds())
        return EditedResponse(status: .created, headers: [.location: "/v1/webhooks/\(endpoint.id)"], response: WebhookRoutes.body(endpoint, secret: true))
    }

    @Sendable func list(_ request: Request, _ context: FoDRequestContext) async throws -> WebhookList {
        WebhookList(webhooks: try await services.store.webhooks().map { WebhookRoutes.body($0, secret: false) })
    }

    @Sendable func show(_ request: Request, _ context: FoDRequestContext) async throws -> WebhookBody {
        WebhookRoutes.body(try await endpoint(context), secret: false)
    }

    @Sendable func delete(_ request: Request, _ context: FoDRequestContext) async throws -> Response {
        let principal = try context.caller()
        let id = context.path("id")
        try await services.store.deleteWebhook(id, actor: principal.actor, at: services.clock.unixSeconds())
        services.metrics.forgetWebhook(id)
        return Response(status: .noContent)
    }

    /// The delivery log, kept after the endpoint is deleted.
    @Sendable func deliveries(_ request: Request, _ context: FoDRequestContext) async throws -> DeliveriesResponse {
        let endpoint = try await endpoint(context, includingDeleted: true)
        let limit = try WebhookRoutes.limit(request)
        return DeliveriesResponse(deliveries: try await services.store.deliveries(of: endpoint.id, limit: limit).map { d in
            DeliveryBody(seq: d.seq, eventID: "evt_\(d.seq)", status: d.status.rawValue, attempts: d.attempts,
                         firstAttemptAt: Timestamp.format(d.firstAttemptMs * 1_000_000), lastAttemptAt: Timestamp.format(d.lastAttemptMs * 1_000_000),
                         lastStatus: d.lastStatus, lastError: d.lastError)
        })
    }

    /// The event waiting for a retry is tried now.
    @Sendable func retry(_ request: Request, _ context: FoDRequestContext) async throws -> WebhookBody {
        let principal = try context.caller()
        return WebhookRoutes.body(try await services.store.rewindWebhook(context.path("id"), after: nil, actor: principal.actor,
                                                                         at: services.clock.unixSeconds()), secret: false)
    }

    /// Every event after `after` is delivered again, in order.
    @Sendable func replay(_ request: Request, _ context: FoDRequestContext) async throws -> WebhookBody {
        let principal = try context.caller()
        let (body, _) = try await RequestBody.decode(ReplayRequest.self, request, context)
        guard body.after >= 0 else { throw APIError(.unprocessableContent, "invalid", "after must be 0 or more") }
        return WebhookRoutes.body(try await WebhookRoutes.replay(context.path("id"), after: body.after, actor: principal.actor, services: services), secret: false)
    }

    /// Delivers every event after `after` (0 or more) to endpoint `id` again, in order, in `actor`'s
    /// name: the API's and the back office's one path.
    /// - Throws: ``APIError`` 422 `after_beyond_newest`; ``StoreError`` (no such endpoint).
    static func replay(_ id: String, after: Int64, actor: String, services: FoDServices) async throws -> WebhookEndpoint {
        // Events are numbered by the audit log's entries: an `after` beyond its head would hold
        // every delivery back until the log grew past it.
        let newest = try await services.store.ledgerMark().auditSeq
        guard after <= newest else {
            throw APIError(.unprocessableContent, "after_beyond_newest", "after (\(after)) is beyond the newest event (\(newest)): replay from an event that exists")
        }
        return try await services.store.rewindWebhook(id, after: after, actor: actor, at: services.clock.unixSeconds())
    }

    /// `GET /v1/events?after=SEQ&limit=N`: the events after SEQ, as delivered to webhooks, with
    /// `next_after` (the cursor of the next page; the same as `after` when there are none yet).
    @Sendable func events(_ request: Request, _ context: FoDRequestContext) async throws -> Response {
        let principal = try context.caller()
        let query = request.uri.queryParameters
        let after = try query.get("after").map { text -> Int64 in
            guard let value = Int64(text), value >= 0 else { throw APIError(.badRequest, "query_invalid", "after is a sequence number, 0 or more") }
            return value
        } ?? 0
        let limit = try WebhookRoutes.limit(request)
        let dealer = principal.role == .dealer ? principal.dealer?.value ?? "" : nil
        let events = try await services.store.events(after: after, limit: limit, dealer: dealer)
        // The events' data is stored JSON, written as it is.
        var text = "{\"events\":["
        text += events.map { $0.json(withActor: dealer == nil) }.joined(separator: ",")
        text += "],\"next_after\":\(events.last?.seq ?? after)}"
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    private func endpoint(_ context: FoDRequestContext, includingDeleted: Bool = false) async throws -> WebhookEndpoint {
        let id = context.path("id")
        guard let endpoint = try await services.store.webhook(id), includingDeleted || endpoint.deletedAt == nil else {
            throw APIError(.notFound, "not_found", "no webhook endpoint \(DisplayText.sanitized(id, maxLength: 40))")
        }
        return endpoint
    }

    static func limit(_ request: Request) throws -> Int {
        guard let text = request.uri.queryParameters.get("limit") else { return 100 }
        guard let value = Int(text), (1...1000).contains(value) else { throw APIError(.badRequest, "query_invalid", "limit is 1 to 1000") }
        return value
    }

    static func body(_ endpoint: WebhookEndpoint, secret: Bool) -> WebhookBody {
        WebhookBody(id: endpoint.id, url: endpoint.url, types: endpoint.types, createdAt: Instant(unixSeconds: endpoint.createdAt).rfc3339,
                    position: endpoint.position, secret: secret ? endpoint.secret : nil)
    }
}
