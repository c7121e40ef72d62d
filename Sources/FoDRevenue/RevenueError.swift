/// The one error type of `FoDRevenue`: invalid rules, unusable event rows, arithmetic limits.
///
/// Equatable by ``code``; reasons name the rule id or the row.
public struct RevenueError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable, machine-readable code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code as it appears in `rejects.csv`, logs and problem documents.
        public let rawValue: String
        init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The rules file is not valid (the reason names the rule).
        public static let rulesInvalid = Code("rules_invalid")
        /// The events file cannot be read as a whole (no header, a missing or unknown column).
        public static let eventsInvalid = Code("events_invalid")
        /// A row is not well-formed CSV / JSON.
        public static let rowMalformed = Code("row_malformed")
        /// A field of a row is missing or invalid (the reason names the field).
        public static let fieldInvalid = Code("field_invalid")
        /// A timestamp is not RFC 3339.
        public static let timestampInvalid = Code("timestamp_invalid")
        /// The currency is not an active ISO 4217 code with minor units.
        public static let currencyUnknown = Code("currency_unknown")
        /// An amount is negative, too large, or not an integer.
        public static let amountInvalid = Code("amount_invalid")
        /// The VAT rate is outside 0–10000 basis points.
        public static let vatInvalid = Code("vat_invalid")
        /// The event id was used by an earlier row.
        public static let duplicateEvent = Code("duplicate_event")
        /// A refund refers to an activation that is not in the file (or to a refund).
        public static let refundUnknownActivation = Code("refund_unknown_activation")
        /// A refund is dated before its activation.
        public static let refundBeforeActivation = Code("refund_before_activation")
        /// A later refund of an activation that an earlier refund already refunded.
        public static let refundDuplicate = Code("refund_duplicate")
        /// An amount or total does not fit in 64 bits.
        public static let overflow = Code("overflow")
        /// Two amounts in different currencies were combined.
        public static let currencyMismatch = Code("currency_mismatch")
        /// A period, timezone or option is not valid.
        public static let optionInvalid = Code("option_invalid")
    }

    /// The stable code.
    public let code: Code
    /// A human-readable explanation naming the rule, row or field.
    public let reason: String

    /// Creates an error.
    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(code.rawValue): \(reason)" }

    public static func == (lhs: RevenueError, rhs: RevenueError) -> Bool { lhs.code == rhs.code }
}
