import Foundation

/// How webhooks are delivered: the timeout of an attempt, the retry schedule, what URLs may be
/// subscribed. `fod serve --webhooks-allow-private`, `--webhook-timeout`, `--webhook-retry-base-ms`.
public struct WebhookPolicy: Sendable {
    /// Each attempt is cut off after this long (connecting, sending, waiting for the answer).
    public var timeout: Duration
    /// The first retry's delay; each next one doubles, with ±20 % jitter, up to ``maxDelay``.
    public var retryBase: Duration
    public var maxDelay: Duration
    /// How long an event is retried before its delivery is marked failed (at least 72 hours).
    public var retryWindow: Duration
    /// Loopback, private, link-local and unique-local addresses, and `http://`, are allowed (tests,
    /// a receiver on the same host); otherwise only `https://` to public addresses.
    public var allowPrivate: Bool
    /// Endpoints delivered to at once by this instance.
    public var workers: Int
    /// How endpoint names are resolved (the system resolver; a test gives its own).
    public var resolve: WebhookResolver
    /// How long a claimed endpoint stays with this instance: longer than an attempt (the address
    /// check, the request cut off at ``timeout``, the bookkeeping). An instance killed mid-attempt
    /// holds its endpoint this long; then another one delivers it.
    public var lease: Duration { timeout + .seconds(15) }

    public init(timeout: Duration = .seconds(10), retryBase: Duration = .seconds(2), maxDelay: Duration = .seconds(6 * 3600),
                retryWindow: Duration = .seconds(72 * 3600), allowPrivate: Bool = false, workers: Int = 8,
                resolve: @escaping WebhookResolver = WebhookURL.systemResolve) {
        self.resolve = resolve
        self.timeout = timeout
        self.retryBase = retryBase
        self.maxDelay = maxDelay
        self.retryWindow = retryWindow
        self.allowPrivate = allowPrivate
        self.workers = workers
    }

    /// The delay before attempt `attempts + 1`, after `attempts` failures (1, 2, …), with jitter.
    /// Jitter spreads retries in time only; it decides nothing.
    public func delay(afterFailures attempts: Int64) -> Duration {
        .milliseconds(Int64(plainDelaySeconds(afterFailures: attempts) * Double.random(in: 0.8...1.2) * 1000))
    }

    /// The delay without jitter: the base doubled per failure, capped at ``maxDelay``.
    private func plainDelaySeconds(afterFailures attempts: Int64) -> Double {
        let base = Double(retryBase.components.seconds) + Double(retryBase.components.attoseconds) / 1e18
        return min(Double(maxDelay.components.seconds), base * pow(2, Double(max(0, min(attempts - 1, 40)))))
    }

    /// The schedule without jitter, for the documentation: the delays until the window is over.
    public var schedule: [Duration] {
        var delays: [Duration] = []
        var total: Duration = .zero
        while total < retryWindow {
            let next = Duration.milliseconds(Int64(plainDelaySeconds(afterFailures: Int64(delays.count) + 1) * 1000))
            delays.append(next)
            total += next
        }
        return delays
    }
}

extension Duration {
    /// Whole milliseconds.
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
