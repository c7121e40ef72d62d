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

/// Text shown to people and stored with signed records (a vehicle's model, an equipment code, a
/// label): 1 to `maxLength` characters, none of them a control character, a format character
/// (which includes the bidirectional overrides that can make text read differently than it is
/// stored) or a line or paragraph separator.
public enum DisplayText {
    /// Checks `text`.
    /// - Throws: ``EntitlementError`` `request_invalid` naming `field`.
    public static func check(_ text: String, _ field: String, maxLength: Int) throws {
        let count = text.count
        guard count >= 1, count <= maxLength else {
            throw EntitlementError(.requestInvalid, "\(field) must be 1 to \(maxLength) characters, it has \(count)")
        }
        for scalar in text.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned:
                throw EntitlementError(.requestInvalid, "\(field) contains the invisible or control character U+\(String(scalar.value, radix: 16, uppercase: true))")
            default: continue
            }
        }
    }
}
