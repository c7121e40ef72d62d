/// The error of the base module's domain types (``Market``, ``Currency``, ``BasisPoints``, ``Instant``).
///
/// Equatable by ``code``. The modules above map these codes onto their own where a document of
/// theirs (a report, a problem document) names the code.
public struct CoreError: CodedError {
    /// This module's codes.
    public typealias Code = ErrorCode<CoreError>

    /// The stable code.
    public let code: Code
    /// A human-readable explanation naming the value.
    public let reason: String

    /// Creates an error.
    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }
}

extension ErrorCode where Domain == CoreError {
    /// Not an ISO 3166-1 alpha-2 market code.
    public static let marketInvalid = ErrorCode("market_invalid")
    /// Not an active ISO 4217 currency code with a minor unit.
    public static let currencyUnknown = ErrorCode("currency_unknown")
    /// A rate outside 0–10,000 basis points.
    public static let rateInvalid = ErrorCode("rate_invalid")
    /// Not an RFC 3339 timestamp.
    public static let instantInvalid = ErrorCode("instant_invalid")
}
