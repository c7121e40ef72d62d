import FoDCore
import FoDEntitlements
import FoDStore
import HTTPTypes

/// A change of owner: entitlements stay with the VIN for their remaining term, except those of
/// features the catalog marks `transferable: false`, which end at the transfer — re-signed with the
/// transfer as their end (a vehicle offline still stops them then), or revoked when they would
/// only start after it. A permanent one has no end a token could carry: it is revoked when the
/// transfer takes effect — at once for a transfer dated now or earlier, by ``takeEffect(at:actor:)``
/// (the renewal job's run) for one dated ahead. What was sold at or after the transfer's date
/// belongs to the new owner and is not touched; a sale made after a transfer was recorded for a
/// later date ends at that date (``ActivationFlow``). Commissions already earned are not touched
/// (no refund events).
struct TransferService {
    let services: FoDServices

    /// How far ahead a change of owner may be dated.
    static let maximumLead: Int64 = 366 * 86_400

    /// Records the transfer of `vin` at `effectiveAt`; returns what ended.
    /// - Throws: ``APIError`` 404 `vehicle_not_found`, 422 `effective_at_out_of_range`; ``StoreError``
    ///   `transfer_recorded` (409), `effective_at_before_registration` (422), `conflict`.
    func transfer(_ vin: VIN, effectiveAt: Int64, actor: String) async throws -> TransferPlan {
        let now = services.clock.unixSeconds()
        guard effectiveAt <= now + TransferService.maximumLead else {
            throw APIError(.unprocessableContent, "effective_at_out_of_range",
                           "effective_at may be at most 366 days ahead (until \(Instant(unixSeconds: now + TransferService.maximumLead).rfc3339))")
        }
        return try await plan(vin, effectiveAt: effectiveAt, now: now) { plan in
            try await services.store.recordTransfer(plan, actor: actor, at: now)
        }
    }

    /// Ends what a transfer recorded ahead of its date could only end when it takes effect (a
    /// permanent entitlement of a feature that does not stay with the vehicle), for the transfers
    /// taking effect in the week up to `now`; each is revoked once (a second run finds nothing).
    /// - Returns: how many entitlements ended.
    func takeEffect(at now: Int64, actor: String = "system:transfer") async throws -> Int {
        var ended = 0
        for due in try await services.store.transfersTakingEffect(after: now - 7 * 86_400, upTo: now) {
            let plan = try await plan(due.vin, effectiveAt: due.effectiveAt, now: now, permanentOnly: true) { plan in
                guard !plan.revoked.isEmpty else { return }
                try await services.store.recordTransfer(plan, actor: actor, at: now)
            }
            ended += plan.revoked.count
        }
        return ended
    }

    /// Plans the transfer against the vehicle's entitlements as they are and commits it with
    /// `commit`; an entitlement changed between the plan and the commit makes it plan again.
    private func plan(_ vin: VIN, effectiveAt: Int64, now: Int64, permanentOnly: Bool = false,
                      commit: (TransferPlan) async throws -> Void) async throws -> TransferPlan {
        for attempt in 1...3 {
            let (vehicle, entitlements) = try await services.vehicleWithEntitlements(vin)
            let signer = try services.signer(.entitlement)
            var ending: [TransferPlan.Ending] = [], revoked: [EntitlementID] = []
            for stored in entitlements where stored.revokedAt == nil {
                let claims = stored.claims
                guard services.catalog.feature(claims.feature)?.transferable == false else { continue }
                // Sold after the transfer's moment: the new owner's.
                if claims.issuedAt > effectiveAt { continue }
                if let end = claims.expiresAt, end <= effectiveAt { continue }
                if claims.expiresAt == nil {
                    // Permanent: no end to re-sign with; revoked once the transfer is in effect.
                    if effectiveAt <= now { revoked.append(claims.id) }
                    continue
                }
                if permanentOnly { continue }
                if claims.notBefore >= effectiveAt {
                    revoked.append(claims.id)
                    continue
                }
                var shortened = claims
                shortened.expiresAt = effectiveAt
                ending.append(.init(id: claims.id, expiresAt: effectiveAt, token: try signer.sign(shortened), replacing: stored.token,
                                    subscription: claims.term == .subscription))
            }
            var plan = TransferPlan(vin: vehicle.vin, effectiveAt: effectiveAt, ending: ending, revoked: revoked)
            plan.recordsTransfer = !permanentOnly
            do {
                try await commit(plan)
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
