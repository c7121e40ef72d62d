import FoDCore
import FoDStore
import Foundation
import HTTPTypes
import Hummingbird

/// Webhooks in the back office (docs/back-office.md): each endpoint's health — when it last took
/// an event, since when it has been failing, how far behind it is — its deliveries with their
/// attempts and the receiver's answers, and retry and replay. For the admin role.
extension AdminWebRoutes {
    func registerWebhooks(on router: Router<FoDRequestContext>) {
        router.get("/admin/webhooks") { request, context in
            await withSession(request, context) { session in
                try requireRole(.admin, session)
                var rows: [[String: Any]] = []
                for endpoint in try await services.store.webhooks() {
                    rows.append(try await health(endpoint, services.store.deliveries(of: endpoint.id, limit: 100)))
                }
                var values = base(session, title: "Webhooks")
                values["endpoints"] = rows
                values["hasEndpoints"] = !rows.isEmpty
                return pages.page("admin_webhooks", values)
            }
        }
        router.get("/admin/webhooks/{id}") { request, context in
            await withSession(request, context) { session in
                try requireRole(.admin, session)
                return try await webhookPage(context.path("id"), session, notice: nil)
            }
        }
        router.post("/admin/webhooks/{id}/{action}") { request, context in
            await withSession(request, context) { session in
                let form = try await postedForm(request, session, role: .admin)
                let id = context.path("id")
                let actor = session.acting(as: .admin).actor
                switch context.path("action") {
                case "retry":
                    _ = try await services.store.rewindWebhook(id, after: nil, actor: actor, at: now)
                    return try await webhookPage(id, session, notice: "The waiting event is tried now.")
                case "replay":
                    guard let after = Int64(form["after"] ?? ""), after >= 0 else {
                        throw APIError(.unprocessableContent, "after_invalid", "Give the event number to replay after (0 or more).")
                    }
                    _ = try await WebhookRoutes.replay(id, after: after, actor: actor, services: services)
                    return try await webhookPage(id, session, notice: "Every event after \(after) is delivered again, in order.")
                default:
                    throw APIError(.notFound, "not_found", "No such action.")
                }
            }
        }
    }

    /// An endpoint as a row: its id, URL and types, and its health from its (newest) deliveries
    /// and the events it has not taken yet.
    private func health(_ endpoint: WebhookEndpoint, _ deliveries: [WebhookDelivery]) async throws -> [String: Any] {
        let pending = try await services.store.events(after: endpoint.position, limit: 1000, dealer: nil)
            .filter { endpoint.types.isEmpty || endpoint.types.contains($0.type) }
        func time(_ ms: Int64) -> String { AdminWebRoutes.shown(ms / 1000) }
        let lastSuccess = deliveries.filter { $0.status == .delivered }.map(\.lastAttemptMs).max()
        let failing = deliveries.filter { $0.seq > endpoint.position && $0.status != .delivered }.map(\.firstAttemptMs).min()
        var row: [String: Any] = ["id": endpoint.id, "url": endpoint.url,
                                  "types": endpoint.types.isEmpty ? "every event" : endpoint.types.joined(separator: ", "), "position": endpoint.position, "lastSuccess": lastSuccess.map(time) ?? "—", "failingSince": failing.map(time) ?? "—"]
        if let oldest = pending.first {
            row["lag"] = "\(pending.count == 1000 ? "1,000+" : String(pending.count)) event(s) waiting, the oldest from \(AdminWebRoutes.shown(oldest.occurredAt))"
        } else {
            row["lag"] = "none"
        }
        row["health"] = failing != nil ? "failing" : (pending.isEmpty ? "up to date" : "delivering")
        return row
    }

    private func webhookPage(_ id: String, _ session: StaffSession, notice: String?) async throws -> Response {
        guard let endpoint = try await services.store.webhook(id) else { throw APIError(.notFound, "webhook_not_found", "No webhook endpoint \(id.prefix(40)).") }
        let deliveries = try await services.store.deliveries(of: endpoint.id, limit: 100)
        var values = base(session, title: "Webhook endpoint")
        values.merge(try await health(endpoint, deliveries)) { _, new in new }
        func time(_ ms: Int64) -> String { AdminWebRoutes.shown(ms / 1000) }
        values["deliveries"] = deliveries.map { delivery -> [String: Any] in
            ["seq": delivery.seq, "status": delivery.status.rawValue, "attempts": delivery.attempts, "first": time(delivery.firstAttemptMs),
             "last": time(delivery.lastAttemptMs),
             "answer": delivery.lastStatus.map { "HTTP \($0)" } ?? String((delivery.lastError ?? "—").prefix(200))]
        }
        values["hasDeliveries"] = !deliveries.isEmpty
        if let notice { values["notice"] = notice }
        return pages.page("admin_webhook", values)
    }
}
