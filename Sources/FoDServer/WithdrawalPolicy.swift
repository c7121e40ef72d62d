import FoDCore

/// The statutory withdrawal period per market: 14 days in the EU by default, longer where a
/// market's law or the OEM's terms give more (`fod serve --withdrawal-days DE=14`).
public struct WithdrawalPolicy: Sendable, Hashable {
    /// Days for markets not listed.
    public let defaultDays: Int
    /// Days per market.
    public let days: [Market: Int]

    public init(defaultDays: Int = 14, days: [Market: Int] = [:]) {
        self.defaultDays = defaultDays
        self.days = days
    }

    /// The period's length in days for `market`.
    public func days(for market: Market) -> Int { days[market] ?? defaultDays }

    /// When the period of a sale at `soldAt` in `market` ends (exclusive): as §187(1) and §188(1)
    /// BGB count it, the days begin the day after the sale and the period ends with the last
    /// one — at the end of the UTC calendar day `days` days after the sale's. A sale on
    /// 1 December may be withdrawn until 15 December 24:00 UTC.
    public func end(soldAt: Int64, market: Market) -> Int64 {
        let saleDay = soldAt >= 0 ? soldAt / 86_400 : (soldAt - 86_399) / 86_400
        return (saleDay + Int64(days(for: market)) + 1) * 86_400
    }

    /// Reads `MARKET=DAYS` settings (DAYS 0–365; `*=DAYS` sets the default).
    /// - Throws: ``CoreError`` `market_invalid` for a bad market, or a message for a bad entry.
    public static func parse(_ settings: [String]) throws -> WithdrawalPolicy {
        var defaultDays = 14
        var days: [Market: Int] = [:]
        for setting in settings {
            let parts = setting.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let count = Int(parts[1]), (0...365).contains(count) else {
                throw WithdrawalPolicyError(setting: setting)
            }
            if parts[0] == "*" { defaultDays = count } else { days[try Market(parts[0])] = count }
        }
        return WithdrawalPolicy(defaultDays: defaultDays, days: days)
    }
}

/// A `--withdrawal-days` entry that is not `MARKET=DAYS`.
public struct WithdrawalPolicyError: Error, CustomStringConvertible {
    public let setting: String
    public var description: String { "--withdrawal-days \"\(setting.prefix(40))\": expected MARKET=DAYS with DAYS 0 to 365 (or *=DAYS for every other market)" }
}
