/// A month's revenue-share report: statements, totals, counts, and the book extract.
public struct Report: Sendable {
    /// The period.
    public let period: ReportPeriod
    /// The rules file's version.
    public let rulesVersion: String
    /// Clawback window of the rules used.
    public let clawbackDays: Int64
    /// One statement per (dealer, currency), sorted by dealer id then currency.
    public let statements: [Statement]
    /// Totals per currency, sorted by currency.
    public let totals: [CurrencyTotal]
    /// Activations, gross and share per feature and currency.
    public let featureMix: [FeatureMix]
    /// Row counts.
    public let counts: ReportCounts
    /// Refunds rejected when matched with their activations, by line.
    public let refundRejects: [RejectedRow]
    /// The book extract: activations and clawbacks of the period, sorted by dealer id, time,
    /// kind and event id. Built line by line on access from compact records.
    public let lines: ReportLines
}
