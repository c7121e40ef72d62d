/// A proleptic Gregorian date and time of day in UTC, for term and timestamp arithmetic without
/// Foundation's `Calendar` (which costs a large share of a token's issue time; see
/// `fod-bench tokens`, and of parsing an events file).
///
/// The day-count conversions are H. Hinnant's `days_from_civil` / `civil_from_days`.
/// Adding months clamps the day to the end of the target month (31 January + 1 month =
/// 28 or 29 February), as `Calendar` does.
public struct CivilDate: Hashable, Sendable {
    /// The year (proleptic Gregorian; year 0 is 1 BC).
    public var year: Int64
    /// The month, 1–12.
    public var month: Int64
    /// The day of the month, 1–31.
    public var day: Int64
    /// Seconds since midnight, 0–86399.
    public var secondOfDay: Int64

    /// Creates a date; the caller ensures the fields are in range.
    public init(year: Int64, month: Int64, day: Int64, secondOfDay: Int64 = 0) {
        self.year = year
        self.month = month
        self.day = day
        self.secondOfDay = secondOfDay
    }

    /// The date and time of a Unix timestamp.
    public init(unixSeconds: Int64) {
        let days = floorDivide(unixSeconds, 86_400)
        secondOfDay = unixSeconds - days * 86_400
        let z = days + 719_468
        let era = floorDivide(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        day = doy - (153 * mp + 2) / 5 + 1
        month = mp < 10 ? mp + 3 : mp - 9
        year = yoe + era * 400 + (month <= 2 ? 1 : 0)
    }

    /// The Unix timestamp of this date and time.
    public var unixSeconds: Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDivide(y, 400)
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return (era * 146_097 + doe - 719_468) * 86_400 + secondOfDay
    }

    /// The same day and time `months` later, the day clamped to the end of the target month.
    public func adding(months: Int64) -> CivilDate {
        let total = year * 12 + (month - 1) + months
        let newYear = floorDivide(total, 12)
        let newMonth = total - newYear * 12 + 1
        return CivilDate(year: newYear, month: newMonth, day: min(day, CivilDate.daysIn(year: newYear, month: newMonth)),
                         secondOfDay: secondOfDay)
    }

    /// The number of days in a month.
    public static func daysIn(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}

private func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}
