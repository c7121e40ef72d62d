/// The rule of a vehicle's time as a value (docs/trust.md, "Clock wound back"): the newest attested
/// time accepted, moved on only by a monotonic clock since — never by a wall clock, which can be set
/// back. ``AttestedTime`` is it behind a lock for one process; the vehicle library (`FoDVehicle`)
/// keeps it in the state it serializes.
///
/// Monotonic readings are nanoseconds of a clock that never goes back within one run of the
/// vehicle's software. Across a restart the clock starts again: ``carriedSeconds`` holds the time
/// that had passed since the attestation when the state was saved, so a restart never makes the
/// last attestation look newer than it is (the time the vehicle was switched off is not counted:
/// it has no clock it can trust for that).
public struct AttestedClock: Sendable, Hashable {
    /// The newest attested time accepted (Unix seconds).
    public private(set) var attested: Int64
    /// Seconds that had passed since ``attested`` before ``base`` (carried over a restart).
    public private(set) var carriedSeconds: Int64
    /// The monotonic reading (ns) from which time since ``attested`` is counted in this run.
    public private(set) var base: UInt64

    /// A clock at `attested`, `carriedSeconds` after it, counting on from the monotonic reading `base`.
    public init(attested: Int64, carriedSeconds: Int64 = 0, base: UInt64) {
        self.attested = attested
        self.carriedSeconds = max(0, carriedSeconds)
        self.base = base
    }

    /// Seconds since the newest attestation at the monotonic reading `now` (a reading before
    /// ``base`` counts as ``base``: the clock never goes back).
    public func secondsSinceAttestation(at now: UInt64) -> Int64 {
        let running = now > base ? Int64(clamping: (now - base) / 1_000_000_000) : 0
        let (sum, overflow) = carriedSeconds.addingReportingOverflow(running)
        return overflow ? Int64.max : sum
    }

    /// The estimate of the time at `now`: the attested time plus the monotonic time since.
    public func estimate(at now: UInt64) -> Int64 {
        let (sum, overflow) = attested.addingReportingOverflow(secondsSinceAttestation(at: now))
        return overflow ? Int64.max : sum
    }

    /// Whether the newest attestation is at most `grace` seconds old at `now`.
    public func isFresh(at now: UInt64, grace: Int64) -> Bool { secondsSinceAttestation(at: now) <= grace }

    /// Checks that an entitlement may be used at `now`: a permanent one always; a time-limited one
    /// (`expiresAt` given) only while the newest attestation is within `grace`.
    /// - Throws: ``EntitlementError`` `time_unattested`.
    public func requireFresh(expiresAt: Int64?, at now: UInt64, grace: Int64) throws {
        guard expiresAt != nil, !isFresh(at: now, grace: grace) else { return }
        throw EntitlementError(.timeUnattested, "no attested time for \(secondsSinceAttestation(at: now)) s (grace \(grace) s): a time-limited entitlement needs a fresh one")
    }

    /// Takes a verified attested `time` received at `now` — or keeps the estimate, should that be
    /// later (the vehicle's time never goes back).
    /// - Throws: ``EntitlementError`` `time_rollback` for a time before the newest one accepted.
    public mutating func accept(_ time: Int64, at now: UInt64) throws {
        guard time >= attested else {
            throw EntitlementError(.timeRollback, "the attested time \(time) is before the one accepted already (\(attested))")
        }
        self = AttestedClock(attested: max(time, estimate(at: now)), base: now)
    }

    /// The same clock counted from a new monotonic reading `now` of a clock that started again
    /// (a restart): the time passed so far is carried.
    public func rebased(passed seconds: Int64, at now: UInt64) -> AttestedClock {
        AttestedClock(attested: attested, carriedSeconds: seconds, base: now)
    }
}
