import FoDCore
/// One line of the book extract: an activation of the period, or a clawback booked in it.
public struct ReportLine: Sendable, Hashable {
    /// What the line books.
    public enum Kind: String, Sendable {
        case activation
        case clawback
    }

    public let kind: Kind
    /// The activation's id, or the refund's id for a clawback.
    public let eventID: String
    /// For a clawback: the activation it claws back.
    public let refersTo: String
    /// When the activation (or the refund) happened, Unix nanoseconds.
    public let occurredAt: Int64
    public let dealerID: String
    public let vin: String
    public let feature: String
    public let term: String
    public let channel: String
    public let market: String
    public let currency: Currency
    /// Gross, VAT and net of the activation; zero on a clawback line, which moves only commission.
    public let gross: Int64
    public let vatBps: Int64
    public let vat: Int64
    public let net: Int64
    /// The rule that priced the activation and the rate it applied (with the tier bonus).
    public let ruleID: String
    public let rateBps: Int64
    /// The dealer's share: positive on an activation, the negated share on a clawback.
    public let share: Int64
    /// The OEM's part: `net - share` on an activation, the share returned on a clawback.
    public let oem: Int64
    /// What the share was computed from: the activation's net (also on a clawback, whose own
    /// `net` is zero), the rule's fixed amount and its cap (`nil`: none). For a line with a dealer,
    /// `|share| = min(round_half_even(basis × rate_bps / 10000) + fixed, cap, basis)`.
    public let basis: Int64
    public let fixed: Int64
    public let cap: Int64?
    /// The commission plan and the version of it that priced the line (the version in force at
    /// the activation's instant; a clawback's is its activation's).
    public let plan: String
    public let planVersion: String
}
