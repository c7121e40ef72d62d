import Synchronization

/// A token bucket on the monotonic clock: at most ``burst`` at once, refilled at ``perSecond``.
/// Guards work anyone can ask for without a key (attested time signs for every request).
final class TokenBucket: Sendable {
    let perSecond: Double
    let burst: Double
    private let state: Mutex<BucketLevel>

    init(perSecond: Double, burst: Double) {
        self.perSecond = perSecond
        self.burst = burst
        state = Mutex(BucketLevel(tokens: burst, at: .now))
    }

    /// Takes one token if there is one.
    func take() -> Bool {
        state.withLock { level in
            level.refill(perSecond: perSecond, burst: burst)
            guard level.tokens >= 1 else { return false }
            level.tokens -= 1
            return true
        }
    }
}

/// A bucket's tokens and when they were counted: the one refill rule of ``TokenBucket`` and ``KeyedRateLimit``.
struct BucketLevel {
    var tokens: Double
    var at: ContinuousClock.Instant

    /// Adds what `perSecond` gives since ``at``, up to `burst`, and counts from now.
    mutating func refill(perSecond: Double, burst: Double) {
        let now = ContinuousClock.now
        let elapsed = now - at
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        tokens = min(burst, tokens + seconds * perSecond)
        at = now
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
    private let buckets = Mutex<[String: BucketLevel]>([:])

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
            var level = refilled(&buckets, caller)
            level.tokens = max(0, level.tokens - 1)
            buckets[caller] = level
        }
    }

    /// Seconds until `caller` has a token again (for `Retry-After`).
    func retryAfter(_ caller: String) -> Int {
        buckets.withLock { buckets in
            let tokens = refilled(&buckets, caller).tokens
            return tokens >= 1 ? 0 : Int(((1 - tokens) / perSecond).rounded(.up))
        }
    }

    /// The caller's level now (a new caller starts full; beyond ``capacity`` the longest idle is forgotten).
    private func refilled(_ buckets: inout [String: BucketLevel], _ caller: String) -> BucketLevel {
        guard var level = buckets[caller] else {
            if buckets.count >= KeyedRateLimit.capacity, let idle = buckets.min(by: { $0.value.at < $1.value.at })?.key { buckets[idle] = nil }
            let level = BucketLevel(tokens: burst, at: .now)
            buckets[caller] = level
            return level
        }
        level.refill(perSecond: perSecond, burst: burst)
        buckets[caller] = level
        return level
    }
}
