import FoDCore
import FoDEntitlements
import FoDStore
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// Builds a vehicle's manifest: its live entitlements (not revoked, not ended, claims that
/// validate), in id order, under the version the store gives this content (the same content keeps
/// its version; a change gets the next, so a vehicle can refuse a rollback), signed, valid for
/// ``lifetime``.
struct ManifestService: Sendable {
    /// How long a manifest is valid (`fod serve --manifest-lifetime`).
    static let defaultLifetime: Int64 = 7 * 86_400

    let store: any EntitlementStore
    /// Writes new versions, grouped.
    let versions: Batcher<ManifestVersionRequest, Int64>
    let issuer: Issuer
    let clock: any WallClock
    /// Seconds from issue to `exp`.
    let lifetime: Int64

    /// The signed manifest of the registered vehicle `vin` and its version (one trip to the store).
    /// - Throws: ``APIError`` 404 `vehicle_not_found`, ``StoreError``, ``EntitlementError`` (signing).
    func manifest(for vin: VIN, logger: Logger) async throws -> (version: Int64, token: String) {
        let now = clock.unixSeconds()
        guard let snapshot = try await store.manifestSnapshot(of: vin) else { throw FoDServices.notRegistered(vin) }
        let live = snapshot.entitlements.filter { $0.revokedAt == nil && ($0.claims.expiresAt.map { $0 > now } ?? true) }
        // An entitlement stored before its claims were validated (a start before 1970) would make
        // every manifest of the vehicle unverifiable; it is left out and reported instead.
        let valid = live.filter { stored in
            do { try stored.claims.validate(); return true } catch {
                logger.warning("entitlement left out of the manifest: its claims do not validate",
                               metadata: ["entitlement": .string(stored.claims.id.value), "reason": .string("\(error)")])
                return false
            }
        }
        let entries = valid.map { ManifestClaims.Entry($0.claims) }.sorted { $0.id < $1.id }
        let request = ManifestVersionRequest(vin: vin, entries: entries)
        let known = snapshot.unchangedVersion(digest: request.digest)
        // A poll of unchanged content is that one read; new content gets its version in the next
        // group commit (which looks again inside its transaction).
        let version: Int64
        if let known { version = known } else { version = try await versions.submit(request) }
        let manifest = ManifestClaims(issuer: issuer.issuer, vin: vin, issuedAt: now, version: version,
                                      expiresAt: now + lifetime, entitlements: entries)
        return (version, try issuer.sign(manifest))
    }
}
