/// A vehicle identification number, validated and normalized.
///
/// 17 characters from `0-9 A-H J-N P R-Z`. Input is trimmed and upper-cased first. The
/// North-American check digit (position 9, 49 CFR 565.15) is enforced when the WMI starts with
/// 1–5 and only reported (``hasValidCheckDigit``) elsewhere, since most European VINs carry none.
public struct VIN: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The normalized VIN: 17 upper-case characters.
    public let value: String
    /// Whether position 9 equals the computed check digit. Always `true` for North-American VINs
    /// (they are refused otherwise); informational for the rest of the world.
    public let hasValidCheckDigit: Bool

    /// Validates a VIN after trimming surrounding whitespace and upper-casing.
    /// - Throws: ``EntitlementError`` `vin_malformed` or `vin_check_digit`.
    public init(_ input: String) throws {
        let trimmed = input.utf8.drop { VIN.isSpace($0) }.reversed().drop { VIN.isSpace($0) }.reversed()
        let upper = trimmed.map { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") ? $0 - 32 : $0 }
        try self.init(strict: String(decoding: upper, as: UTF8.self))
    }

    /// Validates a VIN that must already be normalized (as the `sub` claim of a token must be).
    /// - Throws: ``EntitlementError`` `vin_malformed` or `vin_check_digit`.
    public init(strict input: String) throws {
        var copy = input
        self.hasValidCheckDigit = try copy.withUTF8 { try VIN.check(UnsafeRawBufferPointer($0)) }
        self.value = input
    }

    /// Checks normalized VIN bytes without building a value (for bulk input such as events files).
    /// - Returns: whether position 9 is a valid check digit (always `true` for North America).
    /// - Throws: ``EntitlementError`` `vin_malformed` or `vin_check_digit`.
    public static func check(_ bytes: UnsafeRawBufferPointer) throws -> Bool {
        guard bytes.count == 17 else {
            throw EntitlementError(.vinMalformed, "a VIN has 17 characters, this has \(String(decoding: bytes, as: UTF8.self).count)")
        }
        // One pass in the common case: the check digit is nil only when a character is not allowed.
        guard let expected = VIN.checkDigit(bytes) else {
            let position = (0..<17).first { VIN.transliteration(bytes[$0]) == nil } ?? 0
            let byte = bytes[position]
            let shown = byte >= 0x21 && byte < 0x7F ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
            throw EntitlementError(.vinMalformed, "\(shown) at position \(position + 1) is not allowed in a VIN (0-9, A-Z without I, O, Q)")
        }
        let valid = bytes[8] == expected
        if !valid, bytes[0] >= UInt8(ascii: "1"), bytes[0] <= UInt8(ascii: "5") {
            throw EntitlementError(.vinCheckDigit,
                                   "North-American VIN with check digit '\(Character(Unicode.Scalar(bytes[8])))' at position 9; expected '\(Character(Unicode.Scalar(expected)))'")
        }
        return valid
    }

    /// The 49 CFR 565.15 check digit (`0`–`9` or `X`) for 17 VIN characters, whatever stands at
    /// position 9; `nil` if a character is not allowed in a VIN.
    public static func checkDigit(_ bytes: UnsafeRawBufferPointer) -> UInt8? {
        guard bytes.count == 17 else { return nil }
        let sum: Int? = values.withUnsafeBufferPointer { table in
            weights.withUnsafeBufferPointer { weight in
                var sum = 0
                for position in 0..<17 {
                    let value = table[Int(bytes[position])]
                    if value < 0 { return nil }
                    sum += Int(value) * weight[position]
                }
                return sum
            }
        }
        guard let sum else { return nil }
        let remainder = sum % 11
        return remainder == 10 ? UInt8(ascii: "X") : UInt8(ascii: "0") + UInt8(remainder)
    }

    /// The world manufacturer identifier: the first three characters.
    public var wmi: Substring { value.prefix(3) }

    public var description: String { value }

    public static func < (lhs: VIN, rhs: VIN) -> Bool { lhs.value < rhs.value }

    private static let weights = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    /// ``transliteration(_:)`` of every byte, -1 where not allowed: one load a character in ``checkDigit(_:)``.
    private static let values: [Int8] = (0...255).map { Int8(transliteration(UInt8($0)) ?? -1) }

    /// The 49 CFR 565.15 value of a VIN character, or `nil` if it is not allowed.
    private static func transliteration(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "A")...UInt8(ascii: "H"): return Int(byte - UInt8(ascii: "A")) + 1
        case UInt8(ascii: "J")...UInt8(ascii: "N"): return Int(byte - UInt8(ascii: "J")) + 1
        case UInt8(ascii: "P"): return 7
        case UInt8(ascii: "R"): return 9
        case UInt8(ascii: "S")...UInt8(ascii: "Z"): return Int(byte - UInt8(ascii: "S")) + 2
        default: return nil
        }
    }
}
