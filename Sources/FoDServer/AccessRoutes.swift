import FoDAPI
import FoDCore
import FoDEntitlements
import FoDStore
import HTTPTypes
import Hummingbird
import NIOCore

/// Who the caller is, and the audit log.
struct AccessRoutes {
    let services: FoDServices
    /// Entries per page of `GET /v1/audit`.
    static let auditPageSize = 500

    var collection: RouteCollection<FoDRequestContext> {
        let routes = RouteCollection(context: FoDRequestContext.self)
        routes.group().add(middleware: RoleCheck.require(.issuer, .dealer, .auditor, .network, .product, .finance)).get("/v1/me", use: me)
        routes.group().add(middleware: RoleCheck.require(.auditor)).get("/v1/audit", use: audit)
        return routes
    }

    @Sendable func me(_ request: Request, _ context: FoDRequestContext) async throws -> MeResponse {
        let principal = try context.caller()
        var dealer: DealerRef?
        var partner: PartnerRef?
        if let id = principal.dealer { dealer = DealerRef(id: id, name: try await services.store.site(id)?.name) }
        if let id = principal.partner {
            partner = PartnerRef(id: id.value, name: try await services.store.partner(id)?.version(at: services.clock.unixSeconds()).details.name)
        }
        return MeResponse(keyID: principal.keyID, role: principal.role.rawValue, dealer: dealer, partner: partner, salesperson: principal.salesperson?.value)
    }

    @Sendable func audit(_ request: Request, _ context: FoDRequestContext) async throws -> AuditPage {
        let text = request.uri.queryParameters.get("after").map { String($0) } ?? "0"
        guard let after = Int64(text), after >= 0 else {
            throw APIError(.badRequest, "query_invalid", "after must be a sequence number (0 or more), not \"\(text.prefix(20))\"")
        }
        let page = try await services.store.auditEntries(after: after, limit: AccessRoutes.auditPageSize)
        let entries = page.map { AuditEntryBody(seq: $0.seq, at: $0.at, actor: $0.actor, action: $0.action, subject: $0.subject, details: $0.details, sha256: $0.hash) }
        // A full page has a cursor to the next one; the last page has none.
        return AuditPage(entries: entries, nextAfter: page.count == AccessRoutes.auditPageSize ? page.last?.seq : nil)
    }
}
