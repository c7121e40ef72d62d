import FoDCrypto
import FoDEntitlements
import FoDStore
import HTTPTypes
import Hummingbird
import Logging

/// `POST /v1/activations`: the JSON side of ``ActivationFlow``. `Idempotency-Key` is required.
struct ActivationHandler {
    let services: FoDServices
    static let idempotencyHeader = HTTPField.Name("Idempotency-Key")!
    static let replayedHeader = HTTPField.Name("Idempotent-Replayed")!

    func handle(_ request: Request, _ context: FoDRequestContext) async throws -> Response {
        let principal = try context.require(.dealer)
        guard let key = request.headers[ActivationHandler.idempotencyHeader], ActivationHandler.isValidKey(key) else {
            throw APIError(.badRequest, "idempotency_key_required", "POST /v1/activations needs an Idempotency-Key header (1–128 visible characters)")
        }
        let (body, bytes) = try await JSONBody.object(request, context, allowed: ["vin", "feature", "term"], required: ["vin", "feature", "term"])
        let order = ActivationFlow.Order(vin: try VIN(body["vin"]?.string ?? ""), feature: try FeatureCode(body["feature"]?.string ?? ""),
                                         term: try Term(validating: body["term"]?.string ?? ""))
        // The parsed order is compared, not the body's bytes (a retry may respell the same JSON);
        // keys stored by earlier versions hold the hash of the raw body.
        let requestHash = order.requestHash(earlier: [SHA256.hexHash(Array("POST /v1/activations\n".utf8) + bytes)])
        let outcome = try await ActivationFlow(services: services).activate(order, principal: principal, idempotencyKey: key, requestHash: requestHash)
        var headers: HTTPFields = [.location: Routes.entitlementPath(outcome.entitlementID)]
        if !outcome.created { headers[ActivationHandler.replayedHeader] = "true" }
        return JSONBody.response(bytes: outcome.response.body, status: .init(code: outcome.response.status), headers: headers)
    }

    /// 1–128 visible ASCII characters.
    static func isValidKey(_ key: String) -> Bool { VisibleToken.isValid(key, maxLength: 128) }
}
