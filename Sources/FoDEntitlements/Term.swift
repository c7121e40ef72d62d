import FoDCore

/// How long an entitlement runs.
public enum Term: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// A free trial of ``trialDays`` days.
    case trial
    /// One calendar month.
    case oneMonth = "P1M"
    /// Six calendar months.
    case sixMonths = "P6M"
    /// One calendar year.
    case oneYear = "P1Y"
    /// Three calendar years.
    case threeYears = "P3Y"
    /// A renewing subscription; each token covers one calendar month and is reissued on renewal.
    case subscription
    /// For the life of the vehicle: no `exp`.
    case permanent

    /// Length of a trial in days.
    public static let trialDays = 30

    /// Validates a term name.
    /// - Throws: ``EntitlementError`` `term_invalid`.
    public init(validating name: String) throws {
        guard let term = Term(rawValue: name) else {
            throw EntitlementError(.termInvalid, "term \"\(name.prefix(40))\" is not one of \(Term.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = term
    }

    public var description: String { rawValue }

    /// Whether the term has an end (`exp`): every term but ``permanent``.
    public var hasEnd: Bool { self != .permanent }

    /// The default end of a term that starts at `start` (Unix seconds), in calendar arithmetic
    /// in UTC (31 January plus one month is 28/29 February); `nil` for ``permanent``.
    public func end(startingAt start: Int64) -> Int64? {
        let date = CivilDate(unixSeconds: start)
        switch self {
        case .trial: return start + Int64(Term.trialDays) * 86_400
        case .oneMonth, .subscription: return date.adding(months: 1).unixSeconds
        case .sixMonths: return date.adding(months: 6).unixSeconds
        case .oneYear: return date.adding(months: 12).unixSeconds
        case .threeYears: return date.adding(months: 36).unixSeconds
        case .permanent: return nil
        }
    }
}
