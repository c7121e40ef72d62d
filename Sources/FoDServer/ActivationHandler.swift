import FoDCrypto
import FoDEntitlements
import FoDStore
import HTTPTypes
import Hummingbird
import Logging

/// `POST /v1/activations`: the point-of-sale flow. Eligibility against the vehicle and catalog,
/// the catalog price for the vehicle's market, an entitlement credited to the caller's dealer, and
/// the activation event — recorded in one transaction with the idempotency record, so a retry with
/// the same `Idempotency-Key` gets the first answer and nothing is booked twice.
struct ActivationHandler {
    let services: FoDServices
    static let idempotencyHeader = HTTPField.Name("Idempotency-Key")!
    static let replayedHeader = HTTPField.Name("Idempotent-Replayed")!

    func handle(_ request: Request, _ context: FoDRequestContext) async throws -> Response {
        let principal = try context.require(.dealer)
        guard let dealer = principal.dealer else {
            throw APIError.forbidden("activations are made with a dealer key and credited to that dealer")
        }
        guard let key = request.headers[ActivationHandler.idempotencyHeader], (1...128).contains(key.utf8.count),
              key.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw APIError(.badRequest, "idempotency_key_required", "POST /v1/activations needs an Idempotency-Key header (1–128 visible characters)")
        }
        let (body, bytes) = try await JSONBody.object(request, context, allowed: ["vin", "feature", "term"], required: ["vin", "feature", "term"])
        let requestHash = SHA256.hexHash(Array("POST /v1/activations\n".utf8) + bytes)
        if let previous = try services.database.idempotentResponse(principal: principal.keyID, key: key, requestHash: requestHash) {
            services.metrics.activation(replayed: true)
            return JSONBody.response(bytes: previous.body, status: .init(code: previous.status), headers: [ActivationHandler.replayedHeader: "true"])
        }
        let vin = try VIN(body["vin"]?.string ?? "")
        let feature = try FeatureCode(body["feature"]?.string ?? "")
        let term = try Term(validating: body["term"]?.string ?? "")
        let vehicle = try services.registeredVehicle(vin)
        guard let catalogFeature = services.catalog.feature(feature) else {
            throw APIError(.notFound, "feature_unknown", "\(feature) is not in the catalog")
        }
        if let refusal = catalogFeature.refusal(for: vehicle, equipmentNames: services.catalog.equipmentNames) {
            throw APIError(.unprocessableContent, "not_eligible", "\(refusal.message) (rule \(refusal.rule))")
        }
        guard let price = catalogFeature.price(market: vehicle.market, term: term) else {
            throw APIError(.unprocessableContent, "term_not_offered", "\(catalogFeature.name) is not offered for \(term) in \(vehicle.market)")
        }
        let issued = try services.issuer.issue(EntitlementRequest(vin: vin, feature: feature, term: term, dealer: dealer))
        let activation = NewActivation(entitlement: issued, channel: "dealer", market: vehicle.market, currency: price.currency,
                                       grossMinor: price.grossMinor, vatBps: price.vatBps)
        do {
            let (response, created) = try services.database.recordActivation(
                activation, principal: principal, idempotencyKey: key, requestHash: requestHash,
                response: { claims in IdempotentResponse(status: 201, body: Array(JSONWriter.text(ActivationHandler.body(claims, issued.token, price)).utf8)) },
                at: services.clock.unixSeconds())
            services.metrics.activation(replayed: !created)
            return JSONBody.response(bytes: response.body, status: .init(code: response.status),
                                     headers: created ? [:] : [ActivationHandler.replayedHeader: "true"])
        } catch let error as StoreError where error.code == .conflict {
            throw APIError(.conflict, "already_active", "\(catalogFeature.name) is already active on this vehicle")
        }
    }

    static func body(_ claims: EntitlementClaims, _ token: String, _ price: Price) -> JSONValue {
        JSONBody.object([("id", .string(claims.id.value)), ("vin", .string(claims.vin.value)), ("feature", .string(claims.feature.value)),
                         ("term", .string(claims.term.rawValue)), ("dealer", claims.dealer.map { .string($0.value) } ?? .null),
                         ("not_before", JSONBody.int(claims.notBefore)), ("expires_at", JSONBody.optionalInt(claims.expiresAt)),
                         ("price", Routes.price(price)), ("token", .string(token))])
    }
}
