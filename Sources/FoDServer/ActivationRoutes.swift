import FoDAPI
import FoDCore
import FoDCrypto
import FoDEntitlements
import FoDStore
import HTTPTypes
import Hummingbird
import NIOCore

/// Activations: the dealer's booking (``ActivationFlow``), the OEM's refund, and a month's lines.
struct ActivationRoutes {
    let services: FoDServices
    static let idempotencyHeader = HTTPField.Name("Idempotency-Key")!
    static let replayedHeader = HTTPField.Name("Idempotent-Replayed")!

    var collection: RouteCollection<FoDRequestContext> {
        let routes = RouteCollection(context: FoDRequestContext.self)
        routes.group().add(middleware: RoleCheck.require(.dealer)).post("/v1/activations", use: activate)
        routes.group().add(middleware: RoleCheck.require(.issuer)).post("/v1/activations/{id}/refund", use: refund)
        routes.group().add(middleware: RoleCheck.require(.auditor, .dealer)).get("/v1/activations", use: month)
        return routes
    }

    /// `POST /v1/activations`: `Idempotency-Key` is required; a replay answers the stored first answer.
    @Sendable func activate(_ request: Request, _ context: FoDRequestContext) async throws -> Response {
        let principal = try context.caller()
        guard let key = request.headers[ActivationRoutes.idempotencyHeader], ActivationRoutes.isValidKey(key) else {
            throw APIError(.badRequest, "idempotency_key_required", "POST /v1/activations needs an Idempotency-Key header (1–128 visible characters)")
        }
        let (order, bytes) = try await RequestBody.decode(ActivationRequest.self, request, context)
        // The parsed order is compared, not the body's bytes (a retry may respell the same JSON);
        // keys stored by earlier versions hold the hash of the raw body.
        let requestHash = ActivationFlow.requestHash(order, earlier: [SHA256.hexHash(Array("POST /v1/activations\n".utf8) + bytes)])
        let outcome = try await ActivationFlow(services: services).activate(order, principal: principal, idempotencyKey: key, requestHash: requestHash)
        var headers: HTTPFields = [.location: PathParameters.entitlementPath(outcome.entitlementID)]
        if !outcome.created { headers[ActivationRoutes.replayedHeader] = "true" }
        return APIResponseEncoder.response(ByteBuffer(bytes: outcome.response.body), status: .init(code: outcome.response.status), headers: headers)
    }

    @Sendable func refund(_ request: Request, _ context: FoDRequestContext) async throws -> RefundResponse {
        let principal = try context.caller()
        let id = try PathParameters.entitlementID(context)
        try await IssuingService(services: services).refund(id, actor: principal.actor)
        return RefundResponse(id: id)
    }

    /// The month's lines, each with why its sale was credited to its site (a clawback: its activation's).
    @Sendable func month(_ request: Request, _ context: FoDRequestContext) async throws -> ActivationsResponse {
        var answer = try ActivationsResponse(try await ReportRoutes(services: services).scopedReport(request, context, reading: "activations"))
        let reasons = try await services.store.attributions(of: answer.lines.map { $0.refersTo ?? $0.eventID })
        for index in answer.lines.indices {
            answer.lines[index].attribution = reasons[answer.lines[index].refersTo ?? answer.lines[index].eventID]
        }
        return answer
    }

    /// 1–128 visible ASCII characters.
    static func isValidKey(_ key: String) -> Bool { VisibleToken.isValid(key, maxLength: 128) }
}
