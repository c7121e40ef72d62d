import FoDCore
import FoDEntitlements

/// Everything a vehicle keeps between runs: who it is, what it trusts, its time, its newest
/// manifest and the entitlements it holds. ``OnboardVehicle`` changes it; ``bytes(at:)`` and
/// ``init(bytes:at:)`` store and restore it (`VehicleState+Bytes.swift`).
public struct VehicleState: Sendable {
    /// The newest manifest applied: its version is the floor for the next (anti-rollback).
    public struct ManifestMark: Sendable, Hashable {
        /// `ver`.
        public var version: Int64
        /// `iat`.
        public var issuedAt: Int64
        /// `exp`.
        public var expiresAt: Int64
    }

    /// The vehicle.
    public let vin: VIN
    /// Its market, when its keys are limited to those covering it.
    public let market: Market?
    /// How long after the last attested time time-limited entitlements stay enabled (seconds).
    public let offlineGrace: Int64
    /// Allowed clock skew when verifying (seconds).
    public let leeway: Int64
    /// The version of the root pinned at the factory (or at the last recovery).
    public let pinnedVersion: Int64
    /// The trusted roots: the newest is what keys come from.
    public internal(set) var trust: TrustStore
    /// The vehicle's time.
    public internal(set) var clock: AttestedClock
    /// The newest manifest applied.
    public internal(set) var manifest: ManifestMark?
    /// The entitlements held.
    public internal(set) var held: [HeldEntitlement]

    /// A new vehicle state on a pinned root.
    /// - Parameters:
    ///   - productionTime: the time the vehicle starts from until its first attestation.
    ///   - now: the monotonic reading (ns) of this run.
    /// - Throws: ``EntitlementError`` `root_malformed`, `root_threshold`.
    public init(vin: VIN, market: Market?, pinnedRoot: SignedRoot, productionTime: Int64, offlineGrace: Int64,
                leeway: Int64 = 60, at now: UInt64) throws {
        self.init(vin: vin, market: market, offlineGrace: offlineGrace, leeway: leeway,
                  pinnedVersion: pinnedRoot.metadata.version, trust: try TrustStore(pinned: pinnedRoot),
                  clock: AttestedClock(attested: productionTime, base: now), manifest: nil, held: [])
    }

    init(vin: VIN, market: Market?, offlineGrace: Int64, leeway: Int64, pinnedVersion: Int64, trust: TrustStore,
         clock: AttestedClock, manifest: ManifestMark?, held: [HeldEntitlement]) {
        self.vin = vin
        self.market = market
        self.offlineGrace = max(0, offlineGrace)
        self.leeway = max(0, leeway)
        self.pinnedVersion = pinnedVersion
        self.trust = trust
        self.clock = clock
        self.manifest = manifest
        self.held = held
    }
}
