/// The issuer named in `iss`, such as `https://fod.oem.example`: 1 to 256 printable ASCII
/// characters without spaces.
public struct IssuerID: Sendable, Hashable, CustomStringConvertible {
    /// The issuer string, compared exactly.
    public let value: String

    /// Validates an issuer name.
    /// - Throws: ``EntitlementError`` `issuer_invalid`.
    public init(_ value: String) throws {
        var copy = value
        let valid = copy.withUTF8 { bytes in (1...256).contains(bytes.count) && !bytes.contains { $0 <= 0x20 || $0 >= 0x7F } }
        guard valid else {
            throw EntitlementError(.issuerInvalid, "issuer must be 1 to 256 printable ASCII characters without spaces")
        }
        self.value = value
    }

    public var description: String { value }
}
