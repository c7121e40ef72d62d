import FoDCrypto
import FoDEntitlements
import FoDStore
import HTTPTypes

/// The point-of-sale activation, shared by `POST /v1/activations` and the dealer web page:
/// eligibility against the vehicle and catalog, the catalog price for the vehicle's market, an
/// entitlement credited to the caller's dealer, and the activation event — recorded in one
/// transaction with the idempotency record, so a retry with the same key gets the first answer
/// and nothing is booked twice.
struct ActivationFlow {
    let services: FoDServices

    /// What the caller asked for, validated.
    struct Order {
        let vin: VIN
        let feature: FeatureCode
        let term: Term

        /// The order's members in a fixed order: the same request whatever its spelling (member
        /// order, spacing, a VIN in lower case), from the API or the dealer page.
        var canonical: String {
            JSONWriter.text(JSONBody.object([("vin", .string(vin.value)), ("feature", .string(feature.value)), ("term", .string(term.rawValue))]))
        }

        /// What identifies the order for its idempotency key; `earlier` are hashes fod versions
        /// before this one stored for the same request.
        func requestHash(earlier: [String] = []) -> RequestHash {
            RequestHash(SHA256.hexHash(Array("activation\n\(canonical)".utf8)), earlier: earlier)
        }
    }

    /// The stored answer, the entitlement it made and whether this call created it (false: a replay).
    struct Outcome {
        let response: IdempotentResponse
        let entitlementID: EntitlementID
        let created: Bool

        /// The outcome of a replay: the entitlement's id read from the stored answer (an
        /// activation's answer always has it; ``ActivationFlow/body(_:_:_:)`` writes it).
        init(replaying response: IdempotentResponse) throws {
            guard case .object(let body) = try JSONParser.parse(response.body), let id = body["id"]?.string else {
                throw APIError(.internalServerError, "internal", "the stored activation answer has no id")
            }
            self.response = response
            self.entitlementID = try EntitlementID(id)
            self.created = false
        }

        init(response: IdempotentResponse, entitlementID: EntitlementID, created: Bool) {
            self.response = response
            self.entitlementID = entitlementID
            self.created = created
        }
    }

    /// Activates `order` for `principal`'s dealer under `idempotencyKey`.
    /// - Parameter requestHash: identifies the request, so the same key with another request is refused.
    /// - Throws: ``APIError`` (403 no dealer, 404 `vehicle_not_found` / `feature_unknown`, 409 `already_active`,
    ///   422 `not_eligible` / `term_not_offered` / `idempotency_key_reused`), ``EntitlementError``, ``StoreError``.
    func activate(_ order: Order, principal: Principal, idempotencyKey: String, requestHash: RequestHash) async throws -> Outcome {
        guard principal.role == .dealer, let dealer = principal.dealer else {
            throw APIError.forbidden("activations are made with a dealer key and credited to that dealer")
        }
        if let previous = try services.database.idempotentResponse(principal: principal.keyID, key: idempotencyKey, requestHash: requestHash) {
            services.metrics.activation(replayed: true)
            return try Outcome(replaying: previous)
        }
        let (vehicle, catalogFeature, price) = try quote(order)
        let issued = try services.issuer.issue(EntitlementRequest(vin: order.vin, feature: order.feature, term: order.term, dealer: dealer))
        let record = ActivationRecord(
            activation: NewActivation(entitlement: issued, channel: "dealer", market: vehicle.market, currency: price.currency,
                                      grossMinor: price.grossMinor, vatBps: price.vatBps),
            principal: principal, idempotencyKey: idempotencyKey, requestHash: requestHash,
            response: IdempotentResponse(status: 201, body: Array(JSONWriter.text(ActivationFlow.body(issued.claims, issued.token, price)).utf8)))
        do {
            let recorded = try await services.activations.record(record)
            services.metrics.activation(replayed: !recorded.created)
            return recorded.created ? Outcome(response: recorded.response, entitlementID: issued.claims.id, created: true)
                : try Outcome(replaying: recorded.response)
        } catch let error as StoreError where error.code == .conflict {
            throw APIError(.conflict, "already_active", "\(catalogFeature.name) is already active on this vehicle")
        }
    }

    /// The vehicle, the catalog feature and the price of an order that can be booked — what the
    /// activation books and what the dealer page's confirmation step shows.
    /// - Throws: ``APIError`` 404 `vehicle_not_found` / `feature_unknown`, 422 `not_eligible` (naming the
    ///   rule) / `term_not_offered`.
    func quote(_ order: Order) throws -> (vehicle: Vehicle, feature: CatalogFeature, price: Price) {
        let vehicle = try services.registeredVehicle(order.vin)
        guard let feature = services.catalog.feature(order.feature) else {
            throw APIError(.notFound, "feature_unknown", "\(order.feature) is not in the catalog")
        }
        if let refusal = feature.refusal(for: vehicle, equipmentNames: services.catalog.equipmentNames) {
            throw APIError(.unprocessableContent, "not_eligible", "\(refusal.message) (rule \(refusal.rule))")
        }
        let (_, price) = try services.offered(order.feature, order.term, for: vehicle)
        if order.term == .trial, let used = try services.database.entitlements(of: vehicle.vin).first(where: { $0.claims.feature == order.feature && $0.claims.term == .trial }) {
            // One free trial per vehicle and feature, ever: revoking or ending it does not give another.
            throw APIError(.unprocessableContent, "trial_used",
                           "The free trial of \(feature.name) was already used on this vehicle (from \(DealerViews.date(used.claims.notBefore))).")
        }
        return (vehicle, feature, price)
    }

    /// The activation's JSON answer.
    static func body(_ claims: EntitlementClaims, _ token: String, _ price: Price) -> JSONValue {
        JSONBody.object([("id", .string(claims.id.value)), ("vin", .string(claims.vin.value)), ("feature", .string(claims.feature.value)),
                         ("term", .string(claims.term.rawValue)), ("dealer", claims.dealer.map { .string($0.value) } ?? .null),
                         ("not_before", JSONBody.int(claims.notBefore)), ("expires_at", JSONBody.optionalInt(claims.expiresAt)),
                         ("price", Routes.price(price)), ("token", .string(token))])
    }
}
