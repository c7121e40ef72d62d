import Synchronization

/// A token bucket on the monotonic clock: at most ``burst`` at once, refilled at ``perSecond``.
/// Guards work anyone can ask for without a key (attested time signs for every request).
final class TokenBucket: Sendable {
    let perSecond: Double
    let burst: Double
    private let state: Mutex<(tokens: Double, at: ContinuousClock.Instant)>

    init(perSecond: Double, burst: Double) {
        self.perSecond = perSecond
        self.burst = burst
        state = Mutex((burst, .now))
    }

    /// Takes one token if there is one.
    func take() -> Bool {
        state.withLock { state in
            let now = ContinuousClock.now
            let elapsed = now - state.at
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            state.tokens = min(burst, state.tokens + seconds * perSecond)
            state.at = now
            guard state.tokens >= 1 else { return false }
            state.tokens -= 1
            return true
        }
    }
}

/// The last successful write check of `/readyz`, reused for ``interval`` so that probes (a load
/// balancer's, or anyone's: the route is public) of a healthy instance cost at most one durable
/// write per interval instead of one each, and do not contend with the group commit. A failed
/// check is not remembered: an instance that is not ready is checked again at every probe, so it
/// is back in rotation as soon as writes work again.
final class ReadinessCache: Sendable {
    static let interval: Duration = .seconds(1)
    private let lastReady = Mutex<ContinuousClock.Instant?>(nil)

    /// Whether a check succeeded within the interval.
    func recentlyReady() -> Bool {
        lastReady.withLock { last in
            guard let last else { return false }
            return ContinuousClock.now - last < ReadinessCache.interval
        }
    }

    /// Records a check's outcome.
    func record(_ ready: Bool) { lastReady.withLock { $0 = ready ? .now : nil } }
}
