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

/// A token bucket per caller (an API key's id), for lookups that could be used to guess: opening
/// a quote by its code. A lookup may start while the caller has a token; a miss takes one, a hit
/// takes none (a counter opening the codes customers show is never slowed). At most ``capacity``
/// callers are tracked; beyond, the longest idle is forgotten (it had refilled anyway, or nearly).
/// Per instance: with several instances behind a balancer the bound is the sum.
final class KeyedRateLimit: Sendable {
    let perSecond: Double
    let burst: Double
    static let capacity = 10_000
    private let buckets = Mutex<[String: (tokens: Double, at: ContinuousClock.Instant)]>([:])

    init(perSecond: Double, burst: Double) {
        self.perSecond = perSecond
        self.burst = burst
    }

    /// Whether `caller` may look up now (it has a token).
    func allows(_ caller: String) -> Bool {
        buckets.withLock { buckets in refilled(&buckets, caller).tokens >= 1 }
    }

    /// Takes a token from `caller` (a miss).
    func charge(_ caller: String) {
        buckets.withLock { buckets in
            var bucket = refilled(&buckets, caller)
            bucket.tokens = max(0, bucket.tokens - 1)
            buckets[caller] = bucket
        }
    }

    /// Seconds until `caller` has a token again (for `Retry-After`).
    func retryAfter(_ caller: String) -> Int {
        buckets.withLock { buckets in
            let tokens = refilled(&buckets, caller).tokens
            return tokens >= 1 ? 0 : Int(((1 - tokens) / perSecond).rounded(.up))
        }
    }

    private func refilled(_ buckets: inout [String: (tokens: Double, at: ContinuousClock.Instant)], _ caller: String)
        -> (tokens: Double, at: ContinuousClock.Instant) {
        let now = ContinuousClock.now
        guard let bucket = buckets[caller] else {
            if buckets.count >= KeyedRateLimit.capacity, let idle = buckets.min(by: { $0.value.at < $1.value.at })?.key { buckets[idle] = nil }
            buckets[caller] = (burst, now)
            return (burst, now)
        }
        let elapsed = now - bucket.at
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let refilled = (tokens: min(burst, bucket.tokens + seconds * perSecond), at: now)
        buckets[caller] = refilled
        return refilled
    }
}
