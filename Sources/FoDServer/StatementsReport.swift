import FoDCore
import FoDEntitlements
import FoDRevenue
import FoDStore
import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /v1/reports/statements`, `GET /v1/activations` and the dealer page's month: the same
/// engine as `fod report`, fed with the events export.
enum StatementsReport {
    /// The month's report over every dealer's events, or over one dealer's: a dealer's statement
    /// and lines depend only on its own activations and their refunds (rules, tiers and clawbacks
    /// are per dealer), so reading only those gives the same figures for that dealer. Runs on
    /// ``BlockingPool``.
    static func offloaded(services: FoDServices, period: String, dealer: DealerID?) async throws -> Report {
        try await services.store.run(.long) { store in try run(store: store, rules: services.rules, period: period, dealer: dealer) }
    }

    /// The report of `services`' store, synchronously (tests; the caller is off the event loop).
    static func run(services: FoDServices, period: String, dealer: DealerID? = nil) throws -> Report {
        try run(store: services.database, rules: services.rules, period: period, dealer: dealer)
    }

    /// The report, synchronously (the caller is off the event loop).
    static func run(store: any LedgerStore, rules: RuleSet, period: String, dealer: DealerID? = nil) throws -> Report {
        let reportPeriod = try ReportPeriod(period)
        var csv: [UInt8] = []
        try store.exportEvents(from: reportPeriod.previousStart / 1_000_000_000, to: reportPeriod.end / 1_000_000_000,
                               dealer: dealer) { csv += $0 }
        let builder = ReportBuilder(rules: rules, period: reportPeriod) { _ in }
        var source = MemoryByteSource(csv)
        try CSVEventReader.read(&source, into: builder)
        return try builder.finish()
    }
}
