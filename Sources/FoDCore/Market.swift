/// A market: an ISO 3166-1 alpha-2 country code such as `DE` (two upper-case letters).
public struct Market: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The code.
    public let code: String

    /// Validates the form of a market code.
    /// - Throws: ``CoreError`` `market_invalid`.
    public init(_ code: String) throws {
        let bytes = Array(code.utf8)
        guard bytes.count == 2, bytes.allSatisfy({ $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) else {
            throw CoreError(.marketInvalid, "market \"\(code.prefix(10))\" is not an ISO 3166-1 alpha-2 code (two upper-case letters)")
        }
        self.code = code
    }

    public var description: String { code }
    public static func < (lhs: Market, rhs: Market) -> Bool { lhs.code < rhs.code }
}
