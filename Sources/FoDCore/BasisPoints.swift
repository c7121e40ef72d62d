/// A rate in basis points: 1 bp = 0.01 %, so 1900 is 19 %. Rates of fod (VAT, commission
/// shares, tier bonuses) are 0 to 10,000 bp.
public struct BasisPoints: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The rate in basis points.
    public let value: Int64

    /// Validates a rate.
    /// - Throws: ``CoreError`` `rate_invalid` outside 0–10,000.
    public init(_ value: Int64) throws {
        guard (0...10_000).contains(value) else {
            throw CoreError(.rateInvalid, "a rate of \(value) bp is outside 0–10000 bp (0–100 %)")
        }
        self.value = value
    }

    /// The rate as a number of percent, for people: `19`, `7.50`, `0.25` (whole, or two places).
    public var percent: String {
        let whole = value / 100, rest = value % 100
        return rest == 0 ? String(whole) : "\(whole).\(rest < 10 ? "0" : "")\(rest)"
    }

    public var description: String { "\(value) bp" }
    public static func < (lhs: BasisPoints, rhs: BasisPoints) -> Bool { lhs.value < rhs.value }
}
