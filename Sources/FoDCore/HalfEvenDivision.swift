/// The one definition of exact scaled division in minor units, shared by the revenue engine
/// (`MinorUnits`) and the credit notes' VAT: `value × numerator / denominator` in 128 bits,
/// rounded half to even.
public enum HalfEvenDivision {
    /// `value * numerator / denominator`, rounded half to even; `nil` when it does not fit in `Int64`.
    /// - Precondition: `denominator > 0`.
    @inlinable
    public static func mulDiv(_ value: Int64, _ numerator: Int64, _ denominator: Int64) -> Int64? {
        precondition(denominator > 0, "denominator must be positive")
        let negative = (value < 0) != (numerator < 0)
        let product = value.magnitude.multipliedFullWidth(by: numerator.magnitude)
        let divisor = denominator.magnitude
        guard product.high < divisor else { return nil }
        let (quotient, remainder) = divisor.dividingFullWidth(product)
        var magnitude = quotient
        // Half to even: compare 2·remainder with the divisor without overflowing.
        if remainder > divisor - remainder || (remainder == divisor - remainder && quotient & 1 == 1) {
            magnitude += 1
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return negative ? -Int64(magnitude) : Int64(magnitude)
    }
}
