/// The id of a dealer who sells as the OEM's agent: `[A-Za-z0-9][A-Za-z0-9._-]{0,63}`.
public struct DealerID: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The id.
    public let value: String

    /// Validates a dealer id.
    /// - Throws: ``EntitlementError`` `dealer_invalid`.
    public init(_ value: String) throws {
        guard Identifier.isSimple(value, maxLength: 64) else {
            throw EntitlementError(.dealerInvalid, "dealer id \"\(value.prefix(70))\" is not [A-Za-z0-9][A-Za-z0-9._-]{0,63}")
        }
        self.value = value
    }

    public var description: String { value }
    public static func < (lhs: DealerID, rhs: DealerID) -> Bool { lhs.value < rhs.value }
}

/// Shared validation of simple identifiers.
enum Identifier {
    /// `[A-Za-z0-9][A-Za-z0-9._-]{0,maxLength-1}`.
    static func isSimple(_ value: String, maxLength: Int, extra: UInt8? = nil) -> Bool {
        var value = value
        return value.withUTF8 { bytes in
            guard (1...maxLength).contains(bytes.count), isAlphanumeric(bytes[0]) else { return false }
            for byte in bytes where !(isAlphanumeric(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") || byte == extra) {
                return false
            }
            return true
        }
    }

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }
}
