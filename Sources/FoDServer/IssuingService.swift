import FoDCore
import FoDEntitlements
import FoDStore
import HTTPTypes
import Hummingbird
import NIOCore

/// The OEM backend's direct issue, revocation and refund: the domain work of those routes.
struct IssuingService: Sendable {
    let services: FoDServices

    /// Issues and records an entitlement for a registered vehicle, offered in its market.
    /// - Throws: ``APIError`` (`vehicle_not_found`, `feature_unknown`, `term_not_offered`,
    ///   `dealer_unknown`), ``CoreError`` `instant_invalid`, ``EntitlementError``, ``StoreError``.
    func issue(vin: VIN, feature: FeatureCode, term: Term, dealer: DealerID?, startsAt: String?, actor: String) async throws -> IssuedToken<EntitlementClaims> {
        let start = try startsAt.map { text -> Int64 in
            do { return try Instant(rfc3339: text).unixSeconds } catch {
                throw APIError(.unprocessableContent, "field_invalid", "\"startsAt\" is not RFC 3339")
            }
        }
        let vehicle = try await services.registeredVehicle(vin)
        _ = try services.offered(feature, term, for: vehicle)
        if let dealer, try await services.store.dealer(dealer) == nil {
            throw APIError(.unprocessableContent, "dealer_unknown", "dealer \(dealer) is not known")
        }
        let issued = try services.signer(.entitlement).issue(EntitlementRequest(vin: vehicle.vin, feature: feature, term: term, dealer: dealer, notBefore: start))
        try await services.store.recordIssued(issued, actor: actor, at: services.clock.unixSeconds())
        return issued
    }

    /// Revokes an entitlement; the verifier refuses it from now on.
    func revoke(_ id: EntitlementID, reason: String, actor: String) async throws {
        guard !reason.isEmpty else { throw APIError(.unprocessableContent, "field_missing", "a revocation needs a reason") }
        try await services.store.revoke(entitlement: id, reason: String(reason.prefix(500)), actor: actor, at: services.clock.unixSeconds())
        services.revocations.insert(id)
        services.metrics.revoked()
    }

    /// Refunds an activation: a refund event (a clawback in the report) and its entitlement revoked.
    func refund(_ id: EntitlementID, actor: String) async throws {
        try await services.store.refund(activation: id, actor: actor, at: services.clock.unixSeconds())
        services.revocations.insert(id)
        services.metrics.refunded()
    }
}
