import FoDCore
import FoDEntitlements
import FoDStore
import Logging
import ServiceLifecycle

/// The sweep of `fod serve`: every ``interval``, open quotes whose validity has run out are marked
/// expired, each with its `quote.expired` event, 500 per transaction. An expired quote is refused
/// from its `expires_at` on whether or not the sweep has run (``FoDStore/StoredQuote/status(at:)``);
/// the sweep makes it visible as an event. Several instances may sweep: a quote expires once.
public struct QuoteSweepJob: Service {
    let services: FoDServices
    let interval: Duration
    let logger: Logger

    public init(services: FoDServices, interval: Duration = .seconds(60), logger: Logger) {
        self.services = services
        self.interval = interval
        self.logger = logger
    }

    /// Expires what is due now; returns how many.
    public static func sweep(_ services: FoDServices, stop: () -> Bool = { false }) async throws -> Int {
        var total = 0
        while !stop() {
            let count = try await services.store.expireQuotes(at: services.clock.unixSeconds(), limit: 500)
            total += count
            if count < 500 { break }
        }
        return total
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                let count = try await QuoteSweepJob.sweep(services, stop: { Task.isShuttingDownGracefully || Task.isCancelled })
                if count > 0 { logger.notice("quotes expired", metadata: ["count": "\(count)"]) }
            } catch {
                logger.error("quote sweep failed", metadata: ["reason": .string("\((error as? any CodedError)?.reason ?? "\(error)")")])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
