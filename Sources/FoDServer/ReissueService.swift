import FoDEntitlements
import FoDStore

/// Re-issues what a retired key signed (docs/trust.md, "Rotation without downtime", step 3): every
/// live entitlement whose token names a key that is no longer a published key able to sign
/// entitlements gets a token of the same claims from the newest active key. Safe on several
/// instances at once: a token is replaced only while it is still the one read.
public struct ReissueService: Sendable {
    let services: FoDServices

    public init(services: FoDServices) { self.services = services }

    /// How many entitlements are read at a time.
    static let page = 500

    /// Re-issues the entitlements signed by keys no longer trusted for them.
    /// - Returns: how many tokens this call replaced.
    /// - Throws: ``StoreError``, ``APIError`` `no_signing_key`.
    @discardableResult
    public func reissueRetired(actor: String = "system") async throws -> Int {
        let keys = services.signing.published
        let signer = try services.signer(.entitlement)
        // Only the tokens of keys no longer trusted for entitlements are read.
        let retired = try await services.store.entitlementKeyIDs().filter { kid in !(keys.key(id: kid)?.mayUse(for: .entitlement) ?? false) }
        var after: EntitlementID?
        var replaced = 0
        while true {
            let now = services.clock.unixSeconds()
            let batch = try await services.store.liveEntitlements(signedBy: retired, after: after, limit: ReissueService.page, at: now)
            for stored in batch {
                let token = try signer.sign(stored.claims)
                let kid = StoreRows.keyID(of: stored.token)
                if try await services.store.reissue(stored.claims.id, token: token, replacing: stored.token,
                                                    details: "from=\(kid ?? "?") to=\(signer.keyID)", actor: actor, at: now) {
                    replaced += 1
                }
            }
            guard batch.count == ReissueService.page, let last = batch.last else { return replaced }
            after = last.claims.id
        }
    }
}
