import FoDCore

/// Exact arithmetic in integer minor units (the amounts of ``FoDCore/Money``).
///
/// Every operation is overflow-checked: an amount that does not fit in 64 bits is an error, never
/// a wrapped number. Division rounds half to even at the currency's exponent.
public enum MinorUnits {
    /// `value * numerator / denominator`, rounded half to even, computed in 128 bits.
    /// - Precondition: `denominator > 0`.
    /// - Throws: ``RevenueError`` `overflow` when the result does not fit in `Int64`.
    @inline(__always)
    public static func mulDivHalfEven(_ value: Int64, _ numerator: Int64, _ denominator: Int64) throws -> Int64 {
        guard let result = HalfEvenDivision.mulDiv(value, numerator, denominator) else {
            throw RevenueError(.overflow, "\(value) × \(numerator) / \(denominator) does not fit in 64 bits")
        }
        return result
    }

    /// `a + b`, overflow-checked.
    /// - Throws: ``RevenueError`` `overflow`.
    @inline(__always)
    public static func add(_ a: Int64, _ b: Int64) throws -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        if overflow { throw RevenueError(.overflow, "\(a) + \(b) does not fit in 64 bits") }
        return sum
    }

    /// `a - b`, overflow-checked.
    /// - Throws: ``RevenueError`` `overflow`.
    @inline(__always)
    public static func subtract(_ a: Int64, _ b: Int64) throws -> Int64 {
        let (difference, overflow) = a.subtractingReportingOverflow(b)
        if overflow { throw RevenueError(.overflow, "\(a) − \(b) does not fit in 64 bits") }
        return difference
    }

    /// Splits `total` into parts proportional to `weights` by largest remainder: every part is
    /// floored, then the leftover units go to the largest fractional parts, ties to the earlier
    /// part. The parts always sum to `total` (1000 at 1:1:1 → 334, 333, 333).
    /// - Throws: ``RevenueError`` `overflow`, or `option_invalid` for negative or all-zero weights.
    public static func allocate(_ total: Int64, weights: [Int64]) throws -> [Int64] {
        guard !weights.isEmpty, weights.allSatisfy({ $0 >= 0 }) else {
            throw RevenueError(.optionInvalid, "allocation weights must be non-negative and not empty")
        }
        var weightSum: Int64 = 0
        for weight in weights { weightSum = try add(weightSum, weight) }
        guard weightSum > 0 else { throw RevenueError(.optionInvalid, "allocation weights must not all be zero") }
        let sign: Int64 = total < 0 ? -1 : 1
        let magnitude = total.magnitude
        var parts: [Int64] = []
        var remainders: [(remainder: UInt64, index: Int)] = []
        var assigned: UInt64 = 0
        for (index, weight) in weights.enumerated() {
            let (quotient, remainder) = UInt64(weightSum).dividingFullWidth(magnitude.multipliedFullWidth(by: UInt64(weight)))
            parts.append(Int64(quotient))
            remainders.append((remainder, index))
            assigned += quotient
        }
        var leftover = magnitude - assigned
        for entry in remainders.sorted(by: { $0.remainder != $1.remainder ? $0.remainder > $1.remainder : $0.index < $1.index }) {
            guard leftover > 0 else { break }
            parts[entry.index] += 1
            leftover -= 1
        }
        return parts.map { $0 * sign }
    }
}
