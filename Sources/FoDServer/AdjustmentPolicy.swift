import FoDCore
import FoDStore
import HTTPTypes

/// Bounds on the amounts finance books when it settles an objection, so that no input can make a
/// month impossible to close: one adjustment is at most ``limit`` whole units of its currency (a
/// plausibility limit, `fod serve --adjustment-limit`), and the adjustments waiting for the next
/// close of one dealer and currency are at most ``maximumPending`` and add up to at most
/// ``pendingTotalFactor`` times the limit. With the limit capped at ``maximumLimit`` (10^13 minor
/// units in a currency of 4 places), any sum of them in any order stays below 10^17 minor units,
/// far inside 64 bits beside any month's statement.
public struct AdjustmentPolicy: Sendable {
    /// The largest adjustment, in whole units of its currency (1,000,000 by default).
    public let limit: Int64
    /// How many times ``limit`` one dealer's pending adjustments in a currency may reach.
    public static let pendingTotalFactor: Int64 = 100
    /// How many adjustments of one dealer and currency may wait for the next close.
    public static let maximumPending = 1_000
    /// The largest limit that may be configured (whole units).
    public static let maximumLimit: Int64 = 1_000_000_000

    /// An adjustment above this many whole units of its currency, booked in the back office, takes
    /// a second person's approval (four eyes; `fod serve --four-eyes-adjustment`, 10,000 by default).
    public let fourEyesAbove: Int64

    /// A policy with the given limit and four-eyes amount.
    /// - Throws: ``APIError`` when `limit` is not within 1…``maximumLimit`` or `fourEyesAbove` not within 0…`limit`.
    public init(limit: Int64 = 1_000_000, fourEyesAbove: Int64 = 10_000) throws {
        guard (1...AdjustmentPolicy.maximumLimit).contains(limit) else {
            throw APIError(.unprocessableContent, "option_invalid", "the adjustment limit is 1 to \(AdjustmentPolicy.maximumLimit) whole units, not \(limit)")
        }
        guard (0...limit).contains(fourEyesAbove) else {
            throw APIError(.unprocessableContent, "option_invalid", "the four-eyes amount is 0 to the adjustment limit (\(limit)) whole units, not \(fourEyesAbove)")
        }
        self.limit = limit
        self.fourEyesAbove = fourEyesAbove
    }

    /// Whether an adjustment of `amount` minor units of `currency` takes a second person.
    func needsSecondPerson(_ amount: Int64, currency: Currency) -> Bool {
        amount.magnitude > AdjustmentPolicy.minor(fourEyesAbove, currency).magnitude
    }

    /// The limit in minor units of `currency` (exponents are at most 4: no overflow below ``maximumLimit``).
    func minorLimit(_ currency: Currency) -> Int64 { AdjustmentPolicy.minor(limit, currency) }

    /// `whole` units of `currency` in its minor units (at most ``maximumLimit`` × 10^4: no overflow).
    static func minor(_ whole: Int64, _ currency: Currency) -> Int64 {
        var value = whole
        for _ in 0..<currency.exponent { value *= 10 }
        return value
    }

    /// Checks a new adjustment of `amount` minor units for `dealer` against the limit and the dealer's pending total.
    /// - Throws: ``APIError`` 422 `amount_implausible`, `adjustment_total_exceeded`.
    func check(_ amount: Int64, currency: Currency, dealer: String, store: any PeriodStore) async throws {
        let limit = minorLimit(currency)
        guard amount.magnitude <= limit.magnitude else {
            throw APIError(.unprocessableContent, "amount_implausible",
                           "an adjustment is at most \(currency.format(minor: limit)) \(currency.code) (fod serve --adjustment-limit)")
        }
        let waiting = try await store.pendingAdjustments(upTo: Int64.max).filter { $0.dealerID == dealer && $0.currency == currency.code }
        guard waiting.count < AdjustmentPolicy.maximumPending else {
            throw APIError(.unprocessableContent, "adjustment_total_exceeded",
                           "\(waiting.count) adjustments of \(dealer) in \(currency.code) wait for the next close already: close the month first")
        }
        let total = limit * AdjustmentPolicy.pendingTotalFactor
        var pending = amount, overflow = false
        for adjustment in waiting where !overflow { (pending, overflow) = pending.addingReportingOverflow(adjustment.amount) }
        guard !overflow, pending.magnitude <= total.magnitude else {
            throw APIError(.unprocessableContent, "adjustment_total_exceeded",
                           "the adjustments waiting for the next close of \(dealer) in \(currency.code) would exceed \(currency.format(minor: total)) \(currency.code): close the month first")
        }
    }
}
