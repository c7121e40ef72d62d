import Foundation
import Synchronization

/// A vehicle's trustworthy time (docs/trust.md, "Clock wound back"): the newest attested time it
/// has accepted, moved on by its monotonic clock since — never by its wall clock, which can be
/// set back. As a ``WallClock`` it is what a vehicle's ``Verifier`` checks windows against.
public final class AttestedTime: WallClock {
    private struct State {
        var attested: Int64
        var receivedAt: UInt64
    }

    private let state: Mutex<State>
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
        state = Mutex(State(attested: initial, receivedAt: monotonic()))
    }

    /// The newest attested time accepted.
    public var attested: Int64 { state.withLock { $0.attested } }

    /// Seconds on the monotonic clock since the newest attestation.
    public var secondsSinceAttestation: Int64 {
        let receivedAt = state.withLock { $0.receivedAt }
        return Int64((monotonic() &- receivedAt) / 1_000_000_000)
    }

    /// Whether the last attestation is within the offline grace.
    public var isFresh: Bool { secondsSinceAttestation <= offlineGrace }

    /// The estimate: the attested time plus the monotonic time since.
    public func now() -> Date { Date(timeIntervalSince1970: TimeInterval(attested + secondsSinceAttestation)) }

    /// Verifies a time token answering `nonce` and takes its time — or keeps the estimate, should
    /// that be later (the vehicle's time never goes back).
    /// - Parameter verifier: trusts the time keys (a key set from the vehicle's ``TrustStore``).
    /// - Throws: ``EntitlementError`` of ``Verifier/verifyTime(_:nonce:)``, `time_rollback` for a
    ///   time before the newest one accepted.
    @discardableResult
    public func accept(_ token: String, nonce: String, verifier: Verifier) throws -> Int64 {
        let claims = try verifier.verifyTime(token, nonce: nonce)
        let received = monotonic()
        return try state.withLock { state in
            guard claims.time >= state.attested else {
                throw EntitlementError(.timeRollback, "the attested time \(claims.time) is before the one accepted already (\(state.attested))")
            }
            let estimate = state.attested + Int64((received &- state.receivedAt) / 1_000_000_000)
            state = State(attested: max(claims.time, estimate), receivedAt: received)
            return claims.time
        }
    }

    /// Verifies an entitlement as a vehicle does: against ``now()``, and — for a time-limited one —
    /// only while the last attestation is within the offline grace.
    /// - Throws: ``EntitlementError`` of the verification, `time_unattested`.
    public func verifyEntitlement(_ token: String, vin: VIN, verifier: Verifier) throws -> EntitlementClaims {
        let claims = try verifier.verifyEntitlement(token, vin: vin)
        if claims.expiresAt != nil, !isFresh {
            throw EntitlementError(.timeUnattested, "no attested time for \(secondsSinceAttestation) s (grace \(offlineGrace) s): a time-limited entitlement needs a fresh one")
        }
        return claims
    }
}
