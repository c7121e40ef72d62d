import FoDCore
import FoDCrypto
import FoDEntitlements
import Synchronization

/// A vehicle's side of fod: its ``VehicleState`` behind a lock, and the operations a car performs
/// on it — apply a root, a time attestation, a manifest, a single entitlement; ask whether a
/// feature is enabled. Every refusal is the `EntitlementError` `fod verify` gives for the same
/// input; a refused input changes nothing.
///
/// Time: the vehicle never reads a wall clock. Each call takes `now`, a reading in nanoseconds of
/// the caller's monotonic clock (one that never goes back within a run); the vehicle's time is its
/// newest attested time plus the monotonic time since (``AttestedClock``).
///
/// Thread safety: every method may be called from any thread; calls on one vehicle are serialized.
public final class OnboardVehicle: Sendable {
    private let state: Mutex<VehicleState>

    /// A vehicle on a pinned root.
    /// - Throws: ``EntitlementError`` `root_malformed`, `root_threshold`.
    public init(vin: VIN, market: Market?, pinnedRoot: SignedRoot, productionTime: Int64, offlineGrace: Int64,
                leeway: Int64 = 60, at now: UInt64) throws {
        state = Mutex(try VehicleState(vin: vin, market: market, pinnedRoot: pinnedRoot, productionTime: productionTime,
                                       offlineGrace: offlineGrace, leeway: leeway, at: now))
    }

    /// A vehicle restored from stored bytes (``VehicleState/init(bytes:at:)``).
    /// - Throws: ``VehicleError`` `state_truncated`, `state_corrupt`, `state_malformed`, `state_version_unsupported`.
    public init(restoring bytes: [UInt8], at now: UInt64) throws {
        state = Mutex(try VehicleState(bytes: bytes, at: now))
    }

    /// A copy of the state.
    public var snapshot: VehicleState { state.withLock { $0 } }

    /// The state as bytes to store (``VehicleState/bytes(at:)``).
    public func bytes(at now: UInt64) -> [UInt8] { state.withLock { $0.bytes(at: now) } }

    /// The vehicle's time estimate at `now` (Unix seconds).
    public func time(at now: UInt64) -> Int64 { state.withLock { $0.clock.estimate(at: now) } }

    /// Takes the next root version on top of the newest trusted one (docs/trust.md, "Accepting a
    /// root"). An expired version is taken as a step; ``checkTrust(at:)`` says whether the newest
    /// has expired.
    /// - Returns: the newest trusted version.
    /// - Throws: ``EntitlementError`` `root_malformed`, `issuer_mismatch`, `root_rollback`,
    ///   `root_version_skipped`, `root_threshold`, `keyset_kid_duplicate`.
    @discardableResult
    public func applyRoot(_ json: String) throws -> Int64 {
        let root = try SignedRoot(json: json)
        return try state.withLock { state in
            try state.trust.update(with: root)
            return state.trust.root.version
        }
    }

    /// Whether the newest trusted root is still current at the vehicle's time.
    /// - Throws: ``EntitlementError`` `root_expired`.
    public func checkTrust(at now: UInt64) throws {
        try state.withLock { state in _ = try state.trust.keySet(market: state.market, at: state.clock.estimate(at: now)) }
    }

    /// Verifies a time token answering `nonce` with the newest root's time keys and takes its time.
    /// - Returns: the attested time.
    /// - Throws: ``EntitlementError`` of `Verifier.verifyTime`, `root_expired`, `time_rollback`.
    @discardableResult
    public func applyTime(_ token: String, nonce: String, at now: UInt64) throws -> Int64 {
        try state.withLock { state in
            let claims = try OnboardVehicle.verifier(state, at: now).verifyTime(token, nonce: nonce)
            try state.clock.accept(claims.time, at: now)
            return claims.time
        }
    }

    /// Verifies a manifest for this vehicle, newer than the one held, and makes its list what the
    /// vehicle holds (single entitlements issued after it are kept).
    /// - Throws: ``EntitlementError`` of `Verifier.verifyManifest` (`manifest_rollback`,
    ///   `vin_mismatch`, `typ_mismatch`, `key_scope`, …), `root_expired`.
    @discardableResult
    public func applyManifest(_ token: String, at now: UInt64) throws -> ManifestClaims {
        try state.withLock { state in
            let manifest = try OnboardVehicle.verifier(state, at: now).verifyManifest(token, vin: state.vin, lastAcceptedVersion: state.manifest?.version)
            let listed = Set(manifest.entitlements.map(\.id))
            let later = state.held.filter { $0.source == .token && $0.issuedAt > manifest.issuedAt && !listed.contains($0.entry.id) }
            state.held = manifest.entitlements.map { HeldEntitlement(entry: $0, issuedAt: manifest.issuedAt, source: .manifest) } + later
            state.manifest = .init(version: manifest.version, issuedAt: manifest.issuedAt, expiresAt: manifest.expiresAt)
            return manifest
        }
    }

    /// Verifies a single entitlement token for this vehicle and holds it. A time-limited one needs
    /// a fresh attested time, as on every check.
    /// - Throws: ``EntitlementError`` of `Verifier.verifyEntitlement`, `root_expired`, `time_unattested`.
    @discardableResult
    public func applyEntitlement(_ token: String, at now: UInt64) throws -> EntitlementClaims {
        try state.withLock { state in
            let claims = try OnboardVehicle.verifier(state, at: now).verifyEntitlement(token, vin: state.vin)
            try state.clock.requireFresh(expiresAt: claims.expiresAt, at: now, grace: state.offlineGrace)
            let held = HeldEntitlement(entry: ManifestClaims.Entry(claims), issuedAt: claims.issuedAt, source: .token)
            if let index = state.held.firstIndex(where: { $0.entry.id == claims.id }) {
                state.held[index] = held
            } else {
                state.held.append(held)
            }
            return claims
        }
    }

    /// Whether `feature` is enabled at `now`: an entitlement held for it whose window covers the
    /// vehicle's time — and, for a time-limited one, an attested time within the offline grace.
    /// Otherwise the reason: `time_unattested` first (a sync cures it), then `not_yet_valid`,
    /// `expired`, or `feature_not_entitled` when nothing is held for it.
    public func check(_ feature: FeatureCode, at now: UInt64) -> FeatureDecision {
        state.withLock { state in
            let time = state.clock.estimate(at: now)
            var best: (rank: Int, code: String, held: HeldEntitlement)?
            for held in state.held where held.entry.feature == feature {
                guard let refusal = OnboardVehicle.refusal(held, state, at: now) else {
                    return FeatureDecision(enabled: true, code: "ok", entitlement: held, at: time)
                }
                if best == nil || refusal.rank > best!.rank { best = (refusal.rank, refusal.code, held) }
            }
            guard let best else {
                return FeatureDecision(enabled: false, code: VehicleError.Code.featureNotEntitled.rawValue, entitlement: nil, at: time)
            }
            return FeatureDecision(enabled: false, code: best.code, entitlement: best.held, at: time)
        }
    }

    /// Why `held` does not enable its feature at `now` (with a rank: the higher, the more useful
    /// to say), or `nil` when it does.
    static func refusal(_ held: HeldEntitlement, _ state: VehicleState, at now: UInt64) -> (rank: Int, code: String)? {
        let time = state.clock.estimate(at: now)
        if held.entry.notBefore > time + state.leeway { return (1, EntitlementError.Code.notYetValid.rawValue) }
        if let end = held.entry.expiresAt, end <= time - state.leeway { return (0, EntitlementError.Code.expired.rawValue) }
        if held.entry.expiresAt != nil, !state.clock.isFresh(at: now, grace: state.offlineGrace) {
            return (2, EntitlementError.Code.timeUnattested.rawValue)
        }
        return nil
    }

    /// A verifier with the newest root's keys for the vehicle's market, checking at the vehicle's time.
    private static func verifier(_ state: VehicleState, at now: UInt64) throws -> Verifier {
        let time = state.clock.estimate(at: now)
        return Verifier(keys: try state.trust.keySet(market: state.market, at: time), issuer: state.trust.root.issuer,
                        clock: FixedClock(unixSeconds: time), leeway: state.leeway)
    }
}
