/// A point in time to the second, in UTC: what fod stores and signs (token claims are Unix
/// seconds). The one place instants become text — RFC 3339 for machines (``rfc3339``), the date
/// alone (``date``) and a date for people (``displayDate``); ``Timestamp`` does the same with
/// nanoseconds for events.
public struct Instant: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Seconds since 1970-01-01T00:00:00Z.
    public let unixSeconds: Int64

    /// The instant `unixSeconds` after the epoch.
    public init(unixSeconds: Int64) { self.unixSeconds = unixSeconds }

    /// Parses an RFC 3339 timestamp, years 0000 to 9999 (see ``Timestamp/parseSeconds(_:)``); a
    /// fraction of a second is dropped. What an instant may be is the caller's rule.
    /// - Throws: ``CoreError`` `instant_invalid`.
    public init(rfc3339 text: String) throws {
        guard let seconds = Timestamp.parseSeconds(text) else {
            throw CoreError(.instantInvalid, "\"\(DisplayText.sanitized(text, maxLength: 40))\" is not an RFC 3339 timestamp such as 2026-11-03T09:15:00Z")
        }
        unixSeconds = seconds
    }

    /// `2026-11-03T09:15:00Z`.
    public var rfc3339: String { Timestamp.format(seconds: unixSeconds) }

    /// `2026-11-03`.
    public var date: String { String(rfc3339.prefix(while: { $0 != "T" })) }

    /// `3 Nov 2026`, for people.
    public var displayDate: String {
        let civil = CivilDate(unixSeconds: unixSeconds)
        return "\(civil.day) \(Instant.monthNames[Int(civil.month) - 1]) \(civil.year)"
    }

    public var description: String { rfc3339 }
    public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.unixSeconds < rhs.unixSeconds }

    private static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
}
