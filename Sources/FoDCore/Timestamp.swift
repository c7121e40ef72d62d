

/// RFC 3339 timestamps as nanoseconds since the Unix epoch, parsed and formatted without Foundation.
public enum Timestamp {
    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` (`t`, `z` and a space separator
    /// accepted). Fractions beyond nanoseconds are truncated; a leap second `:60` counts as the
    /// first second of the next minute, as POSIX time does.
    /// - Returns: nanoseconds since 1970-01-01T00:00:00Z, or `nil` if the text is not RFC 3339 or
    ///   lies outside 1678–2261 (what 64-bit nanoseconds hold).
    public static func parse(_ text: UnsafeRawBufferPointer) -> Int64? {
        guard let (seconds, nanos) = parts(text) else { return nil }
        // 64-bit nanoseconds reach from 1677-09-21 to 2262-04-11.
        guard seconds > -9_223_372_036, seconds < 9_223_372_035 else { return nil }
        return seconds * 1_000_000_000 + nanos
    }

    /// Parses as ``parse(_:)-(UnsafeRawBufferPointer)`` does, to whole seconds (a fraction is
    /// dropped), over the whole range RFC 3339 writes: years 0000 to 9999.
    public static func parseSeconds(_ text: String) -> Int64? {
        var text = text
        return text.withUTF8 { parts(UnsafeRawBufferPointer($0))?.seconds }
    }

    /// Seconds since the epoch and the fraction's nanoseconds, or `nil` if the text is not RFC 3339.
    private static func parts(_ text: UnsafeRawBufferPointer) -> (seconds: Int64, nanos: Int64)? {
        let count = text.count
        guard count >= 20 else { return nil }
        @inline(__always) func digit(_ index: Int) -> Int64? {
            let value = text[index] &- UInt8(ascii: "0")
            return value < 10 ? Int64(value) : nil
        }
        @inline(__always) func number(_ start: Int, _ length: Int) -> Int64? {
            var value: Int64 = 0
            for index in start..<(start + length) {
                guard let d = digit(index) else { return nil }
                value = value * 10 + d
            }
            return value
        }
        guard let year = number(0, 4), text[4] == UInt8(ascii: "-"), let month = number(5, 2), text[7] == UInt8(ascii: "-"),
              let day = number(8, 2), [UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " ")].contains(text[10]),
              let hour = number(11, 2), text[13] == UInt8(ascii: ":"), let minute = number(14, 2), text[16] == UInt8(ascii: ":"),
              let second = number(17, 2) else { return nil }
        guard (1...12).contains(month), day >= 1, day <= CivilDate.daysIn(year: year, month: month),
              hour <= 23, minute <= 59, second <= 60 else { return nil }
        var index = 19
        var nanos: Int64 = 0
        if text[index] == UInt8(ascii: ".") {
            index += 1
            var digits = 0
            while index < count, let d = digit(index) {
                if digits < 9 { nanos = nanos * 10 + d }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 9) { nanos *= 10 }
        }
        guard index < count else { return nil }
        var offset: Int64 = 0
        switch text[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            index += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard index + 6 == count, let oh = number(index + 1, 2), text[index + 3] == UInt8(ascii: ":"), let om = number(index + 4, 2),
                  oh <= 23, om <= 59 else { return nil }
            offset = (oh * 3600 + om * 60) * (text[index] == UInt8(ascii: "+") ? 1 : -1)
            index += 6
        default:
            return nil
        }
        guard index == count else { return nil }
        let seconds = CivilDate(year: year, month: month, day: day, secondOfDay: hour * 3600 + minute * 60 + second).unixSeconds - offset
        return (seconds, nanos)
    }

    /// Parses a timestamp given as a string.
    public static func parse(_ text: String) -> Int64? {
        var text = text
        return text.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
    }

    /// Whole Unix seconds of a nanosecond instant, rounded down (also before 1970).
    public static func seconds(_ nanoseconds: Int64) -> Int64 {
        nanoseconds >= 0 ? nanoseconds / 1_000_000_000 : (nanoseconds + 1) / 1_000_000_000 - 1
    }

    /// Formats nanoseconds as RFC 3339 in UTC: `2026-11-03T09:15:00Z`, with a fraction only when
    /// it is not zero (trailing zeros removed).
    public static func format(_ nanoseconds: Int64) -> String {
        let seconds = seconds(nanoseconds)
        return format(seconds: seconds, nanos: nanoseconds - seconds * 1_000_000_000)
    }

    /// Formats whole seconds (and a fraction in nanoseconds) as RFC 3339 in UTC — any instant a
    /// 64-bit count of seconds holds, without going through nanoseconds (which end in 2262).
    public static func format(seconds: Int64, nanos: Int64 = 0) -> String {
        let date = CivilDate(unixSeconds: seconds)
        func pad(_ value: Int64, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        var text = "\(pad(date.year, 4))-\(pad(date.month, 2))-\(pad(date.day, 2))T\(pad(date.secondOfDay / 3600, 2)):\(pad(date.secondOfDay / 60 % 60, 2)):\(pad(date.secondOfDay % 60, 2))"
        if nanos != 0 {
            var fraction = pad(nanos, 9)
            while fraction.hasSuffix("0") { fraction.removeLast() }
            text += "." + fraction
        }
        return text + "Z"
    }
}
