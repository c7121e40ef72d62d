import FoDStore
import Prometheus

/// fod's Prometheus metrics: the registry `GET /metrics` renders, with the service's own counters.
/// HTTP requests are counted and timed by route, method and status (``RequestMetricsMiddleware``).
public final class ServiceMetrics: Sendable {
    /// The registry.
    public let registry: PrometheusCollectorRegistry
    /// Activations recorded (not replays).
    let activations: Counter
    /// Idempotent replays answered.
    let replays: Counter
    /// Verifications through `POST /v1/verify`, by outcome.
    let verified: Counter
    let verifyFailed: Counter
    /// HTTP requests by route, method and status.
    let requests: RequestMetricSet
    /// Requests that failed on the database, by code (`store_database`, `store_busy`).
    let databaseErrors: Counter
    let databaseBusy: Counter
    /// Requests with an API key that was not accepted.
    let authenticationFailures: Counter
    /// Refunds and revocations recorded through the API.
    let refunds: Counter
    let revocations: Counter
    /// The time of each group commit of activations (one SQLite transaction with its fsync).
    let commitDuration: DurationHistogram
    let commitFailures: Counter
    /// Webhook attempts by result (`delivered`, `retry`, `failed`).
    let webhookDelivered: Counter
    let webhookRetried: Counter
    let webhookFailed: Counter
    /// What a scraper needs to know about the process (refreshed at each scrape).
    private let process: ProcessMetrics

    /// Creates the metrics in `registry`.
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        requests = RequestMetricSet(registry: registry)
        func name(_ metric: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "fod", metricName: metric, unitName: "total", helpText: help)
        }
        activations = registry.makeCounter(descriptor: name("activations", "Activations recorded"))
        replays = registry.makeCounter(descriptor: name("idempotent_replays", "Requests answered from an idempotency record"))
        verified = registry.makeCounter(descriptor: name("verifications", "Tokens verified through POST /v1/verify"), labels: [("result", "valid")])
        verifyFailed = registry.makeCounter(descriptor: name("verifications", "Tokens verified through POST /v1/verify"), labels: [("result", "invalid")])
        databaseErrors = registry.makeCounter(descriptor: name("database_errors", "Requests that failed on the database"), labels: [("code", "store_database")])
        databaseBusy = registry.makeCounter(descriptor: name("database_errors", "Requests that failed on the database"), labels: [("code", "store_busy")])
        authenticationFailures = registry.makeCounter(descriptor: name("authentication_failures", "Requests with an API key that was not accepted"))
        refunds = registry.makeCounter(descriptor: name("refunds", "Activations refunded (each revokes its entitlement)"))
        revocations = registry.makeCounter(descriptor: name("revocations", "Entitlements revoked with a reason"))
        commitDuration = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(namespace: "fod", metricName: "database_commit_duration", unitName: "seconds",
                                             helpText: "Group commits of activations: one transaction, written to disk"),
            buckets: [.microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
                      .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1)])
        commitFailures = registry.makeCounter(descriptor: name("database_commit_failures", "Group commits of activations that failed"))
        let attempts = name("webhook_attempts", "Webhook delivery attempts by result")
        webhookDelivered = registry.makeCounter(descriptor: attempts, labels: [("result", "delivered")])
        webhookRetried = registry.makeCounter(descriptor: attempts, labels: [("result", "retry")])
        webhookFailed = registry.makeCounter(descriptor: attempts, labels: [("result", "failed")])
        registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "fod", metricName: "build", unitName: "info",
                                                            helpText: "The build's version, always 1"),
                           labels: [("version", ServiceMetrics.version)]).set(Double(1))
        process = ProcessMetrics(registry: registry)
    }

    /// The service's version (the API's, as in `docs/openapi.yaml`).
    public static let version = "0.1.0"

    /// The Prometheus text exposition of every metric.
    public func render() -> [UInt8] {
        process.refresh()
        return registry.emitToBuffer()
    }

    /// Counts a group commit of activations and how long it took.
    func activationCommit(took: Duration, failed: Bool) {
        commitDuration.record(took)
        if failed { commitFailures.increment() }
    }
    /// Counts a refund.
    func refunded() { refunds.increment() }
    /// Counts a revocation.
    func revoked() { revocations.increment() }

    /// Counts a recorded activation, or an idempotent replay.
    func activation(replayed: Bool) { (replayed ? replays : activations).increment() }
    /// Counts a request that failed on the database.
    func databaseFailure(busy: Bool) { (busy ? databaseBusy : databaseErrors).increment() }
    /// Counts a request whose API key was not accepted.
    func authenticationFailed() { authenticationFailures.increment() }
    /// Counts a claim's attempts, and sets the endpoint's lag: how old its oldest undelivered event
    /// is (`fod_webhook_lag_seconds{endpoint}`; 0 once it has caught up).
    func webhookAttempts(_ attempts: [WebhookAttempt], endpoint: String, lagSeconds: Double) {
        for attempt in attempts {
            switch attempt.outcome {
            case .delivered: webhookDelivered.increment()
            case .retry: webhookRetried.increment()
            case .failed: webhookFailed.increment()
            }
        }
        lagGauge(endpoint).set(max(0, lagSeconds))
    }

    /// Drops a deleted endpoint's lag series.
    func forgetWebhook(_ endpoint: String) { registry.unregisterGauge(lagGauge(endpoint)) }

    private func lagGauge(_ endpoint: String) -> Gauge {
        registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "fod", metricName: "webhook_lag", unitName: "seconds",
                                                            helpText: "Age of the oldest event not yet delivered to the endpoint"),
                           labels: [("endpoint", endpoint)])
    }

    /// Counts a verification by its outcome.
    func verification(valid: Bool) { (valid ? verified : verifyFailed).increment() }
}
