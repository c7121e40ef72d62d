import FoundationEssentials

/// A source of the current time, injected wherever time matters so tests can fix it.
public protocol WallClock: Sendable {
    /// The current time.
    func now() -> Date
}

extension WallClock {
    /// The current time in whole Unix seconds (rounded down).
    public func unixSeconds() -> Int64 {
        Int64(now().timeIntervalSince1970.rounded(.down))
    }
}

/// The system's real-time clock.
public struct SystemClock: WallClock {
    /// Creates the system clock.
    public init() {}
    public func now() -> Date { Date() }
}

/// A clock that always shows the same time (tests, `fod verify --at`).
public struct FixedClock: WallClock {
    /// The time it shows.
    public let date: Date
    /// Creates a clock fixed at `date`.
    public init(_ date: Date) { self.date = date }
    /// Creates a clock fixed at `unixSeconds`.
    public init(unixSeconds: Int64) { self.date = Date(timeIntervalSince1970: TimeInterval(unixSeconds)) }
    public func now() -> Date { date }
}
