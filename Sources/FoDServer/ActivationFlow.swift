import FoDAPI
import FoDCore
import FoDCrypto
import FoDEntitlements
import FoDStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The point-of-sale activation, shared by `POST /v1/activations` and the dealer web page:
/// eligibility against the vehicle and catalog, the catalog price for the vehicle's market, an
/// entitlement credited to the caller's dealer, and the activation event — recorded in one
/// transaction with the idempotency record, so a retry with the same key gets the first answer
/// and nothing is booked twice.
struct ActivationFlow {
    let services: FoDServices

    /// The order's members in a fixed order: the same request whatever its spelling (member
    /// order, spacing, a VIN in lower case), from the API or the dealer page.
    static func canonical(_ order: ActivationRequest) -> String {
        JSONWriter.text(.object(JSONObject(members: [.init(name: "vin", value: .string(order.vin.value)),
                                                     .init(name: "feature", value: .string(order.feature.value)),
                                                     .init(name: "term", value: .string(order.term.rawValue))])))
    }

    /// What identifies the order for its idempotency key; `earlier` are hashes fod versions
    /// before this one stored for the same request.
    static func requestHash(_ order: ActivationRequest, earlier: [String] = []) -> RequestHash {
        RequestHash(SHA256.hexHash(Array("activation\n\(canonical(order))".utf8)), earlier: earlier)
    }

    /// The stored answer, the entitlement it made and whether this call created it (false: a replay).
    struct Outcome {
        let response: IdempotentResponse
        let entitlementID: EntitlementID
        let created: Bool

        /// What every version's stored activation answer has: the entitlement's id (the answer
        /// itself is replayed byte for byte).
        private struct StoredAnswer: Decodable {
            let id: EntitlementID
        }

        /// The outcome of a replay: the entitlement's id from the stored answer.
        init(replaying response: IdempotentResponse) throws {
            guard let stored = try? JSONValueDecoder().decode(StoredAnswer.self, from: response.body) else {
                throw APIError(.internalServerError, "internal", "the stored activation answer has no entitlement id")
            }
            self.response = response
            self.entitlementID = stored.id
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
    ///   422 `not_eligible` (with the refusal) / `term_not_offered` / `idempotency_key_reused`), ``EntitlementError``, ``StoreError``.
    func activate(_ order: ActivationRequest, principal: Principal, idempotencyKey: String, requestHash: RequestHash) async throws -> Outcome {
        guard principal.role == .dealer, let dealer = principal.dealer else {
            throw APIError.forbidden("activations are made with a dealer key and credited to that dealer")
        }
        // The order first, the key's earlier answer only when the order is refused now (the vehicle
        // gone, the trial used by the first call): an order that can be booked goes to the group
        // commit, which reads its key under the write lock anyway and replays the first answer —
        // one read per new activation, not two.
        let quote: Quote
        do {
            quote = try await self.quote(order)
        } catch let refusal as APIError {
            if let previous = try await services.store.idempotentResponse(principal: principal.keyID, key: idempotencyKey, requestHash: requestHash) {
                services.metrics.activation(replayed: true)
                return try Outcome(replaying: previous)
            }
            throw refusal
        }
        let issued = try services.signer(.entitlement).issue(EntitlementRequest(vin: order.vin, feature: order.feature, term: order.term, dealer: dealer))
        let answer = ActivationResponse(claims: issued.claims, token: issued.token, price: quote.price)
        let record = ActivationRecord(
            activation: NewActivation(entitlement: issued, channel: "dealer", market: quote.vehicle.market, gross: quote.price.gross, vat: quote.price.vat),
            principal: principal, idempotencyKey: idempotencyKey, requestHash: requestHash,
            response: IdempotentResponse(status: 201, body: try APIResponseEncoder.bytes(answer)))
        do {
            let recorded = try await services.activations.submit(record)
            services.metrics.activation(replayed: !recorded.created)
            return recorded.created ? Outcome(response: recorded.response, entitlementID: issued.claims.id, created: true)
                : try Outcome(replaying: recorded.response)
        } catch let error as StoreError where error.code == .conflict {
            throw APIError(.conflict, "already_active", "\(quote.feature.name) is already active on this vehicle")
        }
    }

    /// What an order that can be booked books: the vehicle, the catalog feature and the price —
    /// also what the dealer page's confirmation step shows.
    struct Quote {
        let vehicle: Vehicle
        let feature: CatalogFeature
        let price: Price
    }

    /// The quote of an order that can be booked (the dealer page's confirmation step).
    /// - Throws: as ``quote(_:vehicle:usedTrial:)``.
    func quote(_ order: ActivationRequest) async throws -> Quote {
        // One read: the vehicle and, for a trial, its entitlements (the trial already used).
        guard order.term == .trial else { return try quote(order, vehicle: try await services.store.vehicle(order.vin), usedTrial: nil) }
        let read = try await services.store.vehicleWithEntitlements(order.vin)
        let used = read?.entitlements.first { $0.claims.feature == order.feature && $0.claims.term == .trial }
        return try quote(order, vehicle: read?.vehicle, usedTrial: used)
    }

    /// The quote of an order for the vehicle as stored (`nil`: not registered).
    /// - Throws: ``APIError`` 404 `vehicle_not_found` / `feature_unknown`, 422 `not_eligible` (carrying the
    ///   ``Refusal``: rule, feature, equipment) / `term_not_offered` / `trial_used`.
    func quote(_ order: ActivationRequest, vehicle: Vehicle?, usedTrial used: StoredEntitlement?) throws -> Quote {
        let vehicle = try services.registered(vehicle, order.vin)
        guard let feature = services.catalog.feature(order.feature) else {
            throw APIError(.notFound, "feature_unknown", "\(order.feature) is not in the catalog")
        }
        if let refusal = feature.refusal(for: vehicle, equipmentNames: services.catalog.equipmentNames) {
            throw APIError(refusal: refusal)
        }
        let (_, price) = try services.offered(order.feature, order.term, for: vehicle)
        if let used {
            // One free trial per vehicle and feature, ever: revoking or ending it does not give another.
            throw APIError(.unprocessableContent, "trial_used",
                           "The free trial of \(feature.name) was already used on this vehicle (from \(Instant(unixSeconds: used.claims.notBefore).displayDate)).")
        }
        return Quote(vehicle: vehicle, feature: feature, price: price)
    }
}
