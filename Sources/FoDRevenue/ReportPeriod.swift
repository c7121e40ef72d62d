import FoDCore
import Foundation

/// The calendar month a report covers, in a time zone, with the instants that bound it and the
/// month before it (whose activations clawbacks and their tiers need).
public struct ReportPeriod: Sendable, Hashable, CustomStringConvertible {
    /// The year.
    public let year: Int
    /// The month, 1–12.
    public let month: Int
    /// The time zone identifier months are taken in (`UTC` unless chosen).
    public let timeZone: String
    /// Start of the month before, in Unix nanoseconds.
    public let previousStart: Int64
    /// Start of the period.
    public let start: Int64
    /// Start of the month after: the period is `start ..< end`.
    public let end: Int64

    /// The `YYYY-MM` of the UTC month that holds `unixSeconds` ("this month" for a dealer).
    public static func text(containing unixSeconds: Int64) -> String {
        String(Timestamp.format(unixSeconds * 1_000_000_000).prefix(7))
    }

    /// Parses `YYYY-MM` and computes the month boundaries in `timeZone` (an IANA name such as
    /// `Europe/Berlin`).
    /// - Throws: ``RevenueError`` `option_invalid`.
    public init(_ text: String, timeZone: String = "UTC") throws {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 4, parts[1].count == 2, let year = Int(parts[0]), let month = Int(parts[1]),
              (1...12).contains(month), (1970...2200).contains(year) else {
            throw RevenueError(.optionInvalid, "period \"\(text.prefix(20))\" is not YYYY-MM (1970–2200)")
        }
        guard let zone = TimeZone(identifier: timeZone) else {
            throw RevenueError(.optionInvalid, "time zone \"\(timeZone.prefix(40))\" is not an IANA time zone name such as Europe/Berlin")
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        func monthStart(_ year: Int, _ month: Int) -> Int64 {
            let date = calendar.date(from: DateComponents(year: year, month: month, day: 1, hour: 0, minute: 0, second: 0))!
            return Int64(date.timeIntervalSince1970) * 1_000_000_000
        }
        self.year = year
        self.month = month
        self.timeZone = timeZone
        self.previousStart = month == 1 ? monthStart(year - 1, 12) : monthStart(year, month - 1)
        self.start = monthStart(year, month)
        self.end = month == 12 ? monthStart(year + 1, 1) : monthStart(year, month + 1)
    }

    /// `YYYY-MM`.
    public var description: String { String(format: "%04d-%02d", year, month) }

    /// The period before this one.
    public var previousLabel: String { month == 1 ? String(format: "%04d-12", year - 1) : String(format: "%04d-%02d", year, month - 1) }
}
