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
    }

    /// The Prometheus text exposition of every metric.
    public func render() -> [UInt8] { registry.emitToBuffer() }

    /// Counts a recorded activation, or an idempotent replay.
    func activation(replayed: Bool) { (replayed ? replays : activations).increment() }
    /// Counts a request that failed on the database.
    func databaseFailure(busy: Bool) { (busy ? databaseBusy : databaseErrors).increment() }
    /// Counts a request whose API key was not accepted.
    func authenticationFailed() { authenticationFailures.increment() }
    /// Counts a verification by its outcome.
    func verification(valid: Bool) { (valid ? verified : verifyFailed).increment() }
}
