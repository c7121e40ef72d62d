import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization
import UnixSignals

/// Whether the instance is shutting down: `/readyz` then answers 503 so that a load balancer
/// stops sending it requests, while requests that still arrive are served.
public final class DrainState: Sendable {
    private let draining = Mutex(false)

    public init() {}

    /// Whether shutdown has begun.
    public var isDraining: Bool { draining.withLock { $0 } }

    func begin() { draining.withLock { $0 = true } }
}

/// The first service to hear SIGTERM: marks the instance as draining, keeps serving for `delay`,
/// and only then lets the HTTP server shut down gracefully (stop accepting, finish every request
/// in progress). Without the delay, connections accepted in the last moment before the signal
/// but not yet read would be closed with their request unanswered.
struct ShutdownDrain: Service {
    let state: DrainState
    let delay: Duration
    let logger: Logger

    func run() async throws {
        // Suspends until the group's graceful shutdown begins (or the task is cancelled).
        try? await gracefulShutdown()
        state.begin()
        logger.notice("shutting down: not ready, serving requests for the drain period", metadata: ["seconds": .string("\(delay)")])
        try? await Task.sleep(for: delay)
    }
}

/// Runs `app` until SIGTERM or SIGINT, then drains for `drainDelay` and shuts the server down
/// gracefully (ServiceLifecycle: services stop in reverse order, each after the one before).
/// - Parameter store: a store that runs as a service (PostgreSQL's pool): listed first, it stops
///   last, after the server has drained.
/// - Parameter background: jobs (the renewal job) that stop after the server and before the store.
public func runServer(_ app: some ApplicationProtocol, services: FoDServices, drainDelay: Duration, logger: Logger,
                      store: (any Service)? = nil, background: [any Service] = []) async throws {
    let group = ServiceGroup(configuration: .init(
        services: (store.map { [ServiceGroupConfiguration.ServiceConfiguration(service: $0)] } ?? [])
            + background.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) } + [
            .init(service: app),
            .init(service: ShutdownDrain(state: services.drain, delay: drainDelay, logger: logger), successTerminationBehavior: .gracefullyShutdownGroup),
        ],
        gracefulShutdownSignals: [.sigterm, .sigint],
        logger: logger))
    try await group.run()
}
