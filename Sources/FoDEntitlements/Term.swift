import Foundation

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
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let date = Date(timeIntervalSince1970: TimeInterval(start))
        let component: (Calendar.Component, Int)
        switch self {
        case .trial: component = (.day, Term.trialDays)
        case .oneMonth, .subscription: component = (.month, 1)
        case .sixMonths: component = (.month, 6)
        case .oneYear: component = (.year, 1)
        case .threeYears: component = (.year, 3)
        case .permanent: return nil
        }
        guard let end = calendar.date(byAdding: component.0, value: component.1, to: date) else { return nil }
        return Int64(end.timeIntervalSince1970)
    }
}
