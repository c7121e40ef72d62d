import FoDCore

/// The one error type of `FoDRevenue`: invalid rules, unusable event rows, arithmetic limits.
///
/// Equatable by ``code``; reasons name the rule id or the row.
public struct RevenueError: CodedError {
    /// This module's codes (listed in the extension of ``ErrorCode`` below).
    public typealias Code = ErrorCode<RevenueError>

    /// The stable code.
    public let code: Code
    /// A human-readable explanation naming the rule, row or field.
    public let reason: String

    /// Creates an error.
    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }
}

extension ErrorCode where Domain == RevenueError {
    /// The rules file is not valid (the reason names the rule).
    public static let rulesInvalid = ErrorCode("rules_invalid")
    /// The events file cannot be read as a whole (no header, a missing or unknown column).
    public static let eventsInvalid = ErrorCode("events_invalid")
    /// A row is not well-formed CSV / JSON.
    public static let rowMalformed = ErrorCode("row_malformed")
    /// A field of a row is missing or invalid (the reason names the field).
    public static let fieldInvalid = ErrorCode("field_invalid")
    /// A timestamp is not RFC 3339.
    public static let timestampInvalid = ErrorCode("timestamp_invalid")
    /// The currency is not an active ISO 4217 code with minor units.
    public static let currencyUnknown = ErrorCode("currency_unknown")
    /// An amount is negative, too large, or not an integer.
    public static let amountInvalid = ErrorCode("amount_invalid")
    /// The VAT rate is outside 0–10000 basis points.
    public static let vatInvalid = ErrorCode("vat_invalid")
    /// The event id was used by an earlier row.
    public static let duplicateEvent = ErrorCode("duplicate_event")
    /// A refund refers to an activation that is not in the file (or to a refund).
    public static let refundUnknownActivation = ErrorCode("refund_unknown_activation")
    /// A refund is dated before its activation.
    public static let refundBeforeActivation = ErrorCode("refund_before_activation")
    /// A later refund of an activation that an earlier refund already refunded.
    public static let refundDuplicate = ErrorCode("refund_duplicate")
    /// An amount or total does not fit in 64 bits.
    public static let overflow = ErrorCode("overflow")
    /// Two amounts in different currencies were combined.
    public static let currencyMismatch = ErrorCode("currency_mismatch")
    /// The report could not write or read its temporary files beyond the memory limit (the reason
    /// names the folder and the system's error).
    public static let spillFailed = ErrorCode("spill_failed")
    /// A period, timezone or option is not valid.
    public static let optionInvalid = ErrorCode("option_invalid")
}
