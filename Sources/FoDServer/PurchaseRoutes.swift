import FoDAPI
import FoDStore
import HTTPTypes
import Hummingbird
import NIOCore

/// Purchases in the OEM's web shop, app or car (``ActivationFlow/purchase(_:principal:)``),
/// credited to the vehicle's servicing dealer.
struct PurchaseRoutes {
    let services: FoDServices

    var collection: RouteCollection<FoDRequestContext> {
        let routes = RouteCollection(context: FoDRequestContext.self)
        routes.group().add(middleware: RoleCheck.require(.issuer)).post("/v1/purchases", use: purchase)
        return routes
    }

    /// `POST /v1/purchases`: idempotent by `order_id`; a replay answers the stored first answer.
    @Sendable func purchase(_ request: Request, _ context: FoDRequestContext) async throws -> Response {
        let principal = try context.caller()
        let (purchase, _) = try await RequestBody.decode(PurchaseRequest.self, request, context)
        let outcome = try await ActivationFlow(services: services).purchase(purchase, principal: principal)
        var headers: HTTPFields = [.location: PathParameters.entitlementPath(outcome.entitlementID)]
        if !outcome.created { headers[ActivationRoutes.replayedHeader] = "true" }
        return APIResponseEncoder.response(ByteBuffer(bytes: outcome.response.body), status: .init(code: outcome.response.status), headers: headers)
    }
}
