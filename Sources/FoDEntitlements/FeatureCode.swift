/// A feature's code, such as `MATRIX_LED`: `[A-Z][A-Z0-9_]{1,31}`.
public struct FeatureCode: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The code.
    public let value: String

    /// Validates a feature code.
    /// - Throws: ``EntitlementError`` `feature_invalid`.
    public init(_ value: String) throws {
        let bytes = value.utf8
        let valid = (2...32).contains(bytes.count)
            && bytes.first! >= UInt8(ascii: "A") && bytes.first! <= UInt8(ascii: "Z")
            && bytes.dropFirst().allSatisfy { ($0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "_") }
        guard valid else {
            throw EntitlementError(.featureInvalid, "feature code \"\(value.prefix(40))\" is not [A-Z][A-Z0-9_]{1,31}")
        }
        self.value = value
    }

    public var description: String { value }
    public static func < (lhs: FeatureCode, rhs: FeatureCode) -> Bool { lhs.value < rhs.value }
}
