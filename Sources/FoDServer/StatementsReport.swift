import FoDCore
import FoDCrypto
import FoDEntitlements
import FoDRevenue
import FoDStore
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// `GET /v1/reports/statements`, `GET /v1/activations` and the dealer page's month: the same
/// engine as `fod report`, fed with the events export.
enum StatementsReport {
    /// The month's report over every dealer's events, or over one dealer's: a dealer's statement
    /// and lines depend only on its own activations and their refunds (rules, tiers and clawbacks
    /// are per dealer), so reading only those gives the same figures for that dealer. The report
    /// is built on ``BlockingPool``'s long lane.
    static func run(services: FoDServices, period: String, dealer: DealerID? = nil) async throws -> Report {
        let reportPeriod = try ReportPeriod(period)
        return try await build(services.store, services.plan, reportPeriod, EventQuery(dealer: dealer)).report
    }

    /// The one way the service builds a month's report: the events of `query` from the month
    /// before `period` to its end (clawbacks look back) spooled to a temporary file
    /// (``EventsSpool/export(_:_:hashed:)``), then read by the same engine as `fod report` within
    /// ``memoryLimit`` (beyond it, temporary files in `TMPDIR`) on ``BlockingPool``'s long lane.
    /// Memory does not grow with the month. `sha256` is the export's when `hashed` (a close
    /// records it), else `nil`.
    static func build(_ store: any LedgerStore, _ plans: PlanSet, _ period: ReportPeriod, _ query: EventQuery, hashed: Bool = false) async throws
        -> (report: Report, sha256: String?) {
        var query = query
        (query.from, query.to) = (period.previousStart / 1_000_000_000, period.end / 1_000_000_000)
        let (spool, sha256) = try await EventsSpool.export(store, query, hashed: hashed)
        let report = try await BlockingPool.run(.long) {
            let builder = ReportBuilder(plans: plans, period: period, expectedRows: Int(spool.size / 100), memoryLimit: StatementsReport.memoryLimit) { _ in }
            var source = spool
            try CSVEventReader.read(&source, into: builder)
            return try builder.finish()
        }
        return (report, sha256)
    }

    /// The memory a server-side report may take before it writes to temporary files.
    static let memoryLimit = 256 << 20
}

extension EventsSpool {
    /// The events export of `query`, spooled to a temporary file as its pages arrive and, when
    /// `hashed`, hashed as written (the SHA-256 a close records and `fod report --db` prints).
    public static func export(_ store: any LedgerStore, _ query: EventQuery, hashed: Bool) async throws -> (spool: EventsSpool, sha256: String?) {
        let spool = try EventsSpool()
        let hasher = hashed ? Mutex(SHA256Hasher()) : nil
        try await store.exportEvents(query) { block in
            try spool.append(block)
            hasher?.withLock { hasher in block.withUnsafeBytes { hasher.update($0) } }
        }
        return (spool, hasher?.withLock { $0.finalizeHex() })
    }
}

/// The dealer page's month summary per dealer, kept with the ledger position (the newest
/// recorded event) it was computed at: a page view reads that position (one indexed lookup) and
/// recomputes the month only when an event was recorded since. At most ``capacity`` dealers.
final class MonthSummaryCache: Sendable {
    /// A computed summary (the page's values; they hold only strings, numbers and booleans).
    struct Summary: @unchecked Sendable {
        let values: [String: Any]
    }

    static let capacity = 2_000
    private let entries = Mutex<[String: (period: String, mark: Int64, summary: Summary)]>([:])

    func summary(dealer: String, period: String, mark: Int64) -> Summary? {
        entries.withLock { entries in
            guard let entry = entries[dealer], entry.period == period, entry.mark == mark else { return nil }
            return entry.summary
        }
    }

    func keep(_ summary: Summary, dealer: String, period: String, mark: Int64) {
        entries.withLock { entries in
            if entries.count >= MonthSummaryCache.capacity, entries[dealer] == nil { entries.removeAll() }
            entries[dealer] = (period, mark, summary)
        }
    }
}
