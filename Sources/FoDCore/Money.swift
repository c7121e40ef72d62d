/// An amount of money: integer minor units of a currency (`123456` EUR is 1234.56 EUR).
public struct Money: Sendable, Hashable, CustomStringConvertible {
    /// The amount in the currency's minor unit.
    public let minor: Int64
    /// The currency.
    public let currency: Currency

    /// Creates an amount.
    public init(minor: Int64, _ currency: Currency) {
        self.minor = minor
        self.currency = currency
    }

    /// The decimal amount with exactly the currency's places: `1234.56`.
    public var decimal: String { currency.format(minor: minor) }

    /// For people: grouped digits and the code, `1,234.56 EUR`.
    public var display: String { "\(currency.formatGrouped(minor: minor)) \(currency.code)" }

    /// `1234.56 EUR`.
    public var description: String { "\(decimal) \(currency.code)" }
}
