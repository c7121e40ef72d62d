import FoDCrypto

/// The unique id of an entitlement (`jti`): fod issues UUIDv7 (time-ordered); other ids of
/// 1 to 64 characters `[A-Za-z0-9][A-Za-z0-9._-]*` (ULIDs, for instance) are accepted.
public struct EntitlementID: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The id.
    public let value: String

    /// Validates an entitlement id.
    /// - Throws: ``EntitlementError`` `id_invalid`.
    public init(_ value: String) throws {
        guard Identifier.isSimple(value, maxLength: 64) else {
            throw EntitlementError(.idInvalid, "entitlement id \"\(value.prefix(70))\" is not 1 to 64 characters [A-Za-z0-9._-]")
        }
        self.value = value
    }

    private init(unchecked value: String) { self.value = value }

    /// A new UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits from the
    /// CSPRNG, written in lower-case hex with hyphens.
    public static func uuidV7(unixMilliseconds: Int64) -> EntitlementID {
        let random = RandomPool.shared.bytes(10)
        let ms = UInt64(max(0, unixMilliseconds))
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in 0..<6 { bytes[index] = UInt8(truncatingIfNeeded: ms >> (40 - 8 * UInt64(index))) }
        for index in 0..<10 { bytes[6 + index] = random[index] }
        bytes[6] = 0x70 | (bytes[6] & 0x0F)
        bytes[8] = 0x80 | (bytes[8] & 0x3F)
        let digits: StaticString = "0123456789abcdef"
        var text = [UInt8]()
        text.reserveCapacity(36)
        digits.withUTF8Buffer { hex in
            for (index, byte) in bytes.enumerated() {
                if index == 4 || index == 6 || index == 8 || index == 10 { text.append(UInt8(ascii: "-")) }
                text.append(hex[Int(byte >> 4)])
                text.append(hex[Int(byte & 15)])
            }
        }
        return EntitlementID(unchecked: String(decoding: text, as: UTF8.self))
    }

    public var description: String { value }
    public static func < (lhs: EntitlementID, rhs: EntitlementID) -> Bool { lhs.value < rhs.value }
}
