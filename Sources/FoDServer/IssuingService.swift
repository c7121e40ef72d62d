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
        if let dealer, try await services.store.site(dealer) == nil {
            throw APIError(.unprocessableContent, "dealer_unknown", "dealer \(dealer) is not known")
        }
        let issued = try services.signer(.entitlement).issue(EntitlementRequest(vin: vehicle.vin, feature: feature, term: term, dealer: dealer, notBefore: start))
        try await services.store.recordIssued(issued, actor: actor, at: services.clock.unixSeconds())
        return issued
    }

    /// Undoes a revocation, with a reason; the verifier accepts the token again and the next
    /// manifest holds it.
    /// - Throws: ``APIError`` 404 `entitlement_not_found`, 409 `already_active`, 422 `field_missing`,
    ///   `not_revoked`, `refund_not_reinstatable`.
    func reinstate(_ id: EntitlementID, reason: String, actor: String) async throws {
        guard !reason.isEmpty else { throw APIError(.unprocessableContent, "field_missing", "a reinstatement needs a reason") }
        try DisplayText.check(reason, "reason", maxLength: 500)
        do {
            try await services.store.reinstate(id, reason: reason, actor: actor, at: services.clock.unixSeconds())
        } catch let error as StoreError {
            switch error.code {
            case .notFound: throw APIError(.notFound, "entitlement_not_found", "no entitlement \(id.value)")
            case .conflict: throw APIError(.conflict, "already_active", error.reason)
            default: throw error   // not_revoked, refund_not_reinstatable: 422 with their code (APIError.from)
            }
        }
        services.revocations.remove(id)
    }

    /// Revokes an entitlement; the verifier refuses it from now on.
    func revoke(_ id: EntitlementID, reason: String, actor: String) async throws {
        guard !reason.isEmpty else { throw APIError(.unprocessableContent, "field_missing", "a revocation needs a reason") }
        try await services.store.revoke(entitlement: id, reason: String(reason.prefix(500)), actor: actor, at: services.clock.unixSeconds())
        services.revocations.insert(id)
        services.metrics.revoked()
    }

    /// Whether a sale can be withdrawn now, and until when.
    enum WithdrawalStanding: Equatable {
        /// Open until the instant given (exclusive).
        case open(until: Int64)
        /// Refunded or withdrawn already.
        case refunded
        /// The period ended at the instant given.
        case over(at: Int64)
        /// Delivered at the customer's express early-start request with the acknowledgement.
        case lapsed
        /// Issued directly, not sold.
        case notSold
        /// A subscription's renewal: the contract was concluded with the first period.
        case renewal
    }

    /// Where the withdrawal of `stored` stands at `now`, from its sale (`nil`: not sold).
    func standing(_ stored: StoredEntitlement, sale: Sale?, at now: Int64) -> WithdrawalStanding {
        guard let sale else { return .notSold }
        if sale.refunded { return .refunded }
        if sale.renewal { return .renewal }
        let end = services.withdrawal.end(soldAt: sale.soldAt, market: sale.market)
        guard now < end else { return .over(at: end) }
        if sale.consent.waivesWithdrawalOnDelivery, stored.claims.notBefore <= now { return .lapsed }
        return .open(until: end)
    }

    /// The entitlement `principal` may see (a dealer: those credited to it) and its sale.
    /// - Throws: ``APIError`` 404 `entitlement_not_found`.
    func sale(_ id: EntitlementID, for principal: Principal) async throws -> (StoredEntitlement, Sale?) {
        guard let stored = try await services.store.entitlement(id), principal.role != .dealer || stored.claims.dealer == principal.dealer else {
            throw APIError(.notFound, "entitlement_not_found", "no entitlement \(id.value)")
        }
        return (stored, try await services.store.sale(of: id))
    }

    /// The customer's withdrawal within the withdrawal period of the vehicle's market: refunded
    /// (a clawback in the report) and revoked through the refund path.
    /// - Returns: when the withdrawal period ends.
    /// - Throws: ``APIError`` 404 `entitlement_not_found` (also another dealer's), 409 `already_refunded`,
    ///   422 `not_a_sale` (issued directly), `withdrawal_period_over`, `withdrawal_right_lapsed`
    ///   (delivered at the customer's express early-start request with the acknowledgement, §356(5) BGB).
    func withdraw(_ id: EntitlementID, note: String?, principal: Principal) async throws -> Int64 {
        if let note { try DisplayText.check(note, "note", maxLength: 500) }
        let (stored, sale) = try await sale(id, for: principal)
        let now = services.clock.unixSeconds()
        let already = APIError(.conflict, "already_refunded", "the sale of \(id.value) was already refunded or withdrawn")
        switch standing(stored, sale: sale, at: now) {
        case .notSold:
            throw APIError(.unprocessableContent, "not_a_sale", "entitlement \(id.value) was issued directly, not sold: there is nothing to withdraw from (revoke it instead)")
        case .refunded: throw already
        case .renewal:
            throw APIError(.unprocessableContent, "withdrawal_not_applicable",
                           "this is a renewal of a subscription, not a new purchase: cancel the subscription instead (it ends with the paid period)")
        case .over(let end):
            let market = sale?.market
            throw APIError(.unprocessableContent, "withdrawal_period_over",
                           "the withdrawal period of this sale ended with \(Instant(unixSeconds: end - 1).displayDate) (\(market.map { services.withdrawal.days(for: $0) } ?? 0) days in \(market?.code ?? "?"), counted in UTC days from the day after the sale)")
        case .lapsed:
            throw APIError(.unprocessableContent, "withdrawal_right_lapsed",
                           "the customer asked for the feature to start at once and acknowledged losing the withdrawal right; it was delivered, so the right has lapsed (§356(5) BGB)")
        case .open(let end):
            do {
                try await services.store.refund(activation: id, reason: .withdrawal, note: note, actor: principal.actor, at: now)
            } catch let error as StoreError where error.code == .conflict {
                throw already
            }
            services.revocations.insert(id)
            services.metrics.refunded()
            return end
        }
    }

    /// Refunds an activation: a refund event (a clawback in the report) and its entitlement revoked.
    func refund(_ id: EntitlementID, actor: String) async throws {
        try await services.store.refund(activation: id, actor: actor, at: services.clock.unixSeconds())
        services.revocations.insert(id)
        services.metrics.refunded()
    }
}
