import FoDAPI
import FoDCore
import FoDEntitlements
import FoDStore
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// Builds a vehicle's manifest: its live entitlements (not revoked, not ended, claims that
/// validate), in id order, under the version the store gives this content, signed, valid for
/// ``lifetime`` from the version's issue. The same content keeps its version — with the same
/// `iat` and `exp`, so the same claims — until half the lifetime has passed; then, or when the
/// content changes, the next version is issued (docs/trust.md, "Manifest freshness"). So a vehicle
/// always gets either the manifest it holds or a newer one with a later `exp`.
struct ManifestService: Sendable {
    /// How long a manifest is valid (`fod serve --manifest-lifetime`).
    static let defaultLifetime: Int64 = 7 * 86_400

    let store: any EntitlementStore
    /// Writes new versions, grouped.
    let versions: Batcher<ManifestVersionRequest, ManifestVersion>
    let signing: SigningKeys
    let clock: any WallClock
    /// Seconds from issue to `exp`.
    let lifetime: Int64

    /// The signed manifest of the registered vehicle `vin` and its version (one trip to the store).
    /// - Throws: ``APIError`` 404 `vehicle_not_found`, ``StoreError``, ``EntitlementError`` (signing).
    func manifest(for vin: VIN, logger: Logger) async throws -> (version: Int64, token: String) {
        let now = clock.unixSeconds()
        guard let snapshot = try await store.manifestSnapshot(of: vin) else { throw FoDServices.notRegistered(vin) }
        let entries = ManifestService.live(snapshot, at: now, logger: logger).map { ManifestClaims.Entry($0.claims) }.sorted { $0.id < $1.id }
        let issuer = try signing.requireSigner(for: .manifest)
        // The signing key is part of the content: a manifest signed by a retired key gets a new version.
        let request = ManifestVersionRequest(vin: vin, entries: entries, signer: issuer.keyID, reusableSince: now - lifetime / 2)
        // A poll of unchanged, fresh content is that one read; new content, or content due for a
        // fresher `exp`, gets its version in the next group commit (which looks again inside its
        // transaction).
        let version: ManifestVersion
        if let known = snapshot.reusableVersion(for: request) { version = known } else { version = try await versions.submit(request) }
        let manifest = ManifestClaims(issuer: issuer.issuer, vin: vin, issuedAt: version.issuedAt, version: version.version,
                                      expiresAt: version.issuedAt + lifetime, entitlements: entries)
        return (version.version, try issuer.sign(manifest))
    }

    /// The entitlements a manifest lists at `now`: not revoked, not ended, claims that validate.
    static func live(_ snapshot: ManifestSnapshot, at now: Int64, logger: Logger) -> [StoredEntitlement] {
        let live = snapshot.entitlements.filter { $0.revokedAt == nil && ($0.claims.expiresAt.map { $0 > now } ?? true) }
        // An entitlement stored before its claims were validated (a start before 1970) would make
        // every manifest of the vehicle unverifiable; it is left out and reported instead.
        return live.filter { stored in
            do { try stored.claims.validate(); return true } catch {
                logger.warning("entitlement left out of the manifest: its claims do not validate",
                               metadata: ["entitlement": .string(stored.claims.id.value), "reason": .string("\(error)")])
                return false
            }
        }
    }

    /// How far a car's clock may be from the service's when its report is compared: an
    /// entitlement that started or ended less than this ago may be either way.
    static let reportLeeway: Int64 = 60

    /// A car's report beside what the service issued it (docs/vehicle-sdk.md, "The car reports
    /// back"): missing — live and started, not enabled; unexpected — enabled, with no entitlement
    /// that is live (revoked or ended ones are not), both with ``reportLeeway``; and whether its
    /// manifest is older than the newest issued.
    /// - Throws: ``APIError`` 404 `vehicle_not_found`, ``StoreError``.
    func compare(_ report: VehicleStateRequest, for vin: VIN, logger: Logger) async throws -> VehicleStateReport {
        let now = clock.unixSeconds()
        guard let snapshot = try await store.manifestSnapshot(of: vin) else { throw FoDServices.notRegistered(vin) }
        let leeway = ManifestService.reportLeeway
        let unrevoked = snapshot.entitlements.filter { $0.revokedAt == nil }
        let required = Set(ManifestService.live(snapshot, at: now + leeway, logger: logger)
            .filter { $0.claims.notBefore <= now - leeway }.map(\.claims.feature))
        let allowed = Set(unrevoked.filter { $0.claims.notBefore <= now + leeway && ($0.claims.expiresAt.map { $0 > now - leeway } ?? true) }
            .map(\.claims.feature))
        let enabled = Set(report.enabled)
        return VehicleStateReport(vin: vin, reportedAt: now, manifestVersion: report.manifestVersion, rootVersion: report.rootVersion,
                                  enabled: report.enabled, currentManifestVersion: snapshot.last?.version,
                                  missing: Array(required.subtracting(enabled)), unexpected: Array(enabled.subtracting(allowed)))
    }
}
