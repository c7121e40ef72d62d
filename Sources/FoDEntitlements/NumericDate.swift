import FoDCore

/// The range of times fod writes into a signed document (`iat`, `nbf`, `exp`): from the Unix
/// epoch to the end of year 9999, in seconds. The verifier refuses negative NumericDates, so
/// nothing earlier may be signed; nothing later can be written as RFC 3339.
public enum NumericDate {
    /// 1970-01-01T00:00:00Z through 9999-12-31T23:59:59Z.
    public static let range: ClosedRange<Int64> = 0...253_402_300_799

    /// Checks one claim's time.
    /// - Throws: ``EntitlementError`` `claim_invalid` naming the claim.
    static func check(_ value: Int64, _ name: String) throws {
        guard range.contains(value) else {
            throw EntitlementError(.claimInvalid, "\"\(name)\" (\(value)) is outside 1970-01-01 to 9999-12-31")
        }
    }
}

extension DisplayText {
    /// Checks `text` by the one text rule (``DisplayText/violation(in:_:maxLength:)``).
    /// - Throws: ``EntitlementError`` `request_invalid` naming `field`.
    public static func check(_ text: String, _ field: String, maxLength: Int) throws {
        if let problem = violation(in: text, field, maxLength: maxLength) { throw EntitlementError(.requestInvalid, problem) }
    }
}
