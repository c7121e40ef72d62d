import FoDCore
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
        let csv = try await exported(services.store, from: reportPeriod.previousStart / 1_000_000_000, to: reportPeriod.end / 1_000_000_000, dealer: dealer)
        let rules = services.rules
        return try await BlockingPool.run(.long) {
            // Within the same kind of memory limit as fod report (beyond it, temporary files in TMPDIR).
            let builder = ReportBuilder(rules: rules, period: reportPeriod, memoryLimit: StatementsReport.memoryLimit) { _ in }
            var source = MemoryByteSource(csv)
            try CSVEventReader.read(&source, into: builder)
            return try builder.finish()
        }
    }

    /// The memory a server-side report may take before it writes to temporary files.
    static let memoryLimit = 256 << 20

    /// The events export in memory.
    static func exported(_ store: any LedgerStore, from: Int64?, to: Int64?, dealer: DealerID?) async throws -> [UInt8] {
        let bytes = ExportBuffer()
        try await store.exportEvents(from: from, to: to, dealer: dealer) { bytes.append($0) }
        return bytes.take()
    }
}

/// Collects an export's blocks (they arrive one after the other): the events in memory for a
/// report, the export route and `fod report --db`.
public final class ExportBuffer: Sendable {
    private let bytes = Mutex<[UInt8]>([])
    public init() {}
    /// Adds the next block.
    public func append(_ block: [UInt8]) { bytes.withLock { $0 += block } }
    /// Everything so far.
    public func take() -> [UInt8] { bytes.withLock { $0 } }
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
