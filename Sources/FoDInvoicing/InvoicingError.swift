import FoDCore

/// The one error type of `FoDInvoicing`: master data a credit note cannot be made from, and a
/// credit note that fails fod's own check.
public struct InvoicingError: CodedError {
    /// This module's codes (listed in the extension of ``ErrorCode`` below).
    public typealias Code = ErrorCode<InvoicingError>

    /// The stable code.
    public let code: Code
    /// A human-readable explanation naming the field.
    public let reason: String

    /// Creates an error.
    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }
}

extension ErrorCode where Domain == InvoicingError {
    /// A party's master data is invalid (the reason names the field).
    public static let partyInvalid = ErrorCode("party_invalid")
    /// An IBAN fails its registry structure or its check digits (ISO 13616).
    public static let ibanInvalid = ErrorCode("iban_invalid")
    /// A VAT identification number has not the form of one, or a German one fails its check digit.
    public static let vatIDInvalid = ErrorCode("vat_id_invalid")
    /// The issuer profile (the OEM's own data for its credit notes) is invalid.
    public static let issuerInvalid = ErrorCode("issuer_invalid")
    /// A dealer with a payable amount lacks what a credit note must carry (§14(4) UStG).
    public static let masterDataIncomplete = ErrorCode("master_data_incomplete")
    /// A credit note fails fod's own check: totals that do not add up, a missing field.
    public static let creditNoteInvalid = ErrorCode("credit_note_invalid")
    /// An amount does not fit in 64 bits.
    public static let overflow = ErrorCode("overflow")
}
