import Dispatch
import FoundationEssentials
import Synchronization

/// A vehicle's trustworthy time (docs/trust.md, "Clock wound back"): the newest attested time it
/// has accepted, moved on by its monotonic clock since — never by its wall clock, which can be
/// set back. As a ``WallClock`` it is what a vehicle's ``Verifier`` checks windows against.
public final class AttestedTime: WallClock {
    private let clock: Mutex<AttestedClock>
    private let monotonic: @Sendable () -> UInt64
    /// How long after the last attestation time-limited entitlements still verify (seconds).
    public let offlineGrace: Int64

    /// - Parameters:
    ///   - initial: the time the vehicle starts from (its production time, pinned with its root).
    ///   - offlineGrace: see ``offlineGrace``.
    ///   - monotonic: nanoseconds on a clock that never goes back (default: the system's).
    public init(initial: Int64, offlineGrace: Int64, monotonic: @escaping @Sendable () -> UInt64 = { DispatchTime.now().uptimeNanoseconds }) {
        self.monotonic = monotonic
        self.offlineGrace = offlineGrace
        clock = Mutex(AttestedClock(attested: initial, base: monotonic()))
    }

    /// The newest attested time accepted.
    public var attested: Int64 { clock.withLock { $0.attested } }

    /// Seconds on the monotonic clock since the newest attestation.
    public var secondsSinceAttestation: Int64 {
        let now = monotonic()
        return clock.withLock { $0.secondsSinceAttestation(at: now) }
    }

    /// Whether the last attestation is within the offline grace.
    public var isFresh: Bool { secondsSinceAttestation <= offlineGrace }

    /// The estimate: the attested time plus the monotonic time since.
    public func now() -> Date {
        let reading = monotonic()
        return Date(timeIntervalSince1970: TimeInterval(clock.withLock { $0.estimate(at: reading) }))
    }

    /// Verifies a time token answering `nonce` and takes its time — or keeps the estimate, should
    /// that be later (the vehicle's time never goes back).
    /// - Parameter verifier: trusts the time keys (a key set from the vehicle's ``TrustStore``).
    /// - Throws: ``EntitlementError`` of ``Verifier/verifyTime(_:nonce:)``, `time_rollback` for a
    ///   time before the newest one accepted.
    @discardableResult
    public func accept(_ token: String, nonce: String, verifier: Verifier) throws -> Int64 {
        let claims = try verifier.verifyTime(token, nonce: nonce)
        let received = monotonic()
        try clock.withLock { try $0.accept(claims.time, at: received) }
        return claims.time
    }

    /// Verifies an entitlement as a vehicle does: against ``now()``, and — for a time-limited one —
    /// only while the last attestation is within the offline grace.
    /// - Throws: ``EntitlementError`` of the verification, `time_unattested`.
    public func verifyEntitlement(_ token: String, vin: VIN, verifier: Verifier) throws -> EntitlementClaims {
        let claims = try verifier.verifyEntitlement(token, vin: vin)
        let reading = monotonic()
        try clock.withLock { try $0.requireFresh(expiresAt: claims.expiresAt, at: reading, grace: offlineGrace) }
        return claims
    }
}
