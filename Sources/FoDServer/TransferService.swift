import FoDCore
import FoDEntitlements
import FoDStore
import HTTPTypes

/// A change of owner: entitlements stay with the VIN for their remaining term, except those of
/// features the catalog marks `transferable: false`, which end at the transfer — re-signed with the
/// transfer as their end (a vehicle offline still stops them then), or revoked when they would
/// only start after it. Commissions already earned are not touched (no refund events).
struct TransferService {
    let services: FoDServices

    /// Records the transfer of `vin` at `effectiveAt`; returns what ended.
    /// - Throws: ``APIError`` 404 `vehicle_not_found`; ``StoreError`` `transfer_recorded` (409), `conflict`.
    func transfer(_ vin: VIN, effectiveAt: Int64, actor: String) async throws -> TransferPlan {
        for attempt in 1...3 {
            let (vehicle, entitlements) = try await services.vehicleWithEntitlements(vin)
            let signer = try services.signer(.entitlement)
            var ending: [TransferPlan.Ending] = [], revoked: [EntitlementID] = []
            for stored in entitlements where stored.revokedAt == nil {
                let claims = stored.claims
                guard services.catalog.feature(claims.feature)?.transferable == false else { continue }
                if let end = claims.expiresAt, end <= effectiveAt { continue }
                if claims.notBefore >= effectiveAt {
                    revoked.append(claims.id)
                    continue
                }
                var shortened = claims
                shortened.expiresAt = effectiveAt
                ending.append(.init(id: claims.id, expiresAt: effectiveAt, token: try signer.sign(shortened), replacing: stored.token,
                                    subscription: claims.term == .subscription))
            }
            let plan = TransferPlan(vin: vehicle.vin, effectiveAt: effectiveAt, ending: ending, revoked: revoked)
            do {
                try await services.store.recordTransfer(plan, actor: actor, at: services.clock.unixSeconds())
                for id in revoked { services.revocations.insert(id) }
                return plan
            } catch let error as StoreError where error.code == .conflict {
                // An entitlement changed between the plan and the commit: plan again.
                // (`transfer_recorded` is answered 409 by APIError.from.)
                if attempt == 3 { throw error }
            }
        }
        throw StoreError(.conflict, "the vehicle's entitlements kept changing")
    }
}
