import Dispatch
import HTTPTypes
import Hummingbird
import Prometheus
import Synchronization

/// HTTP request metrics straight into fod's Prometheus registry: `fod_http_requests_total` and the
/// `fod_http_request_duration_seconds` histogram by route, method and status. The metric objects of
/// each (route, method, status) are made once and kept. It replaces Hummingbird's swift-metrics
/// middleware, which measured 12–49 µs of CPU per request under load (docs/benchmarks.md).
struct RequestMetricsMiddleware: RouterMiddleware {
    typealias Context = FoDRequestContext
    let metrics: ServiceMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = DispatchTime.now().uptimeNanoseconds
        let status: HTTPResponse.Status
        do {
            let response = try await next(request, context)
            status = response.status
            metrics.request(route: context.endpointPath ?? "unknown", method: request.method, status: status, start: start)
            return response
        } catch {
            status = (error as? any HTTPResponseError)?.status ?? .internalServerError
            metrics.request(route: context.endpointPath ?? "unknown", method: request.method, status: status, start: start)
            throw error
        }
    }
}

/// The per-route request metrics, made once per (route, method, status).
final class RequestMetricSet: Sendable {
    struct Key: Hashable {
        let route: String
        let method: HTTPRequest.Method
        let status: Int
    }

    private let registry: PrometheusCollectorRegistry
    private let made = Mutex<[Key: (Counter, DurationHistogram)]>([:])
    static let buckets: [Duration] = [.microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
                                      .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1)]

    init(registry: PrometheusCollectorRegistry) { self.registry = registry }

    func record(_ key: Key, nanoseconds: Int64) {
        let metrics = made.withLock { made -> (Counter, DurationHistogram) in
            if let existing = made[key] { return existing }
            let labels = [("route", key.route), ("method", key.method.rawValue), ("status", String(key.status))]
            let pair = (registry.makeCounter(descriptor: MetricNameDescriptor(namespace: "fod", subsystem: "http", metricName: "requests",
                                                                              unitName: "total", helpText: "HTTP requests answered"), labels: labels),
                        registry.makeDurationHistogram(descriptor: MetricNameDescriptor(namespace: "fod", subsystem: "http", metricName: "request_duration",
                                                                                        unitName: "seconds", helpText: "Time to answer an HTTP request"),
                                                       labels: labels, buckets: RequestMetricSet.buckets))
            made[key] = pair
            return pair
        }
        metrics.0.increment()
        metrics.1.recordNanoseconds(nanoseconds)
    }
}

extension ServiceMetrics {
    /// Records one answered request.
    func request(route: String, method: HTTPRequest.Method, status: HTTPResponse.Status, start: UInt64) {
        requests.record(.init(route: route, method: method, status: status.code),
                        nanoseconds: Int64(DispatchTime.now().uptimeNanoseconds &- start))
    }
}
