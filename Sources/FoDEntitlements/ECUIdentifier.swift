/// The serial or hardware id of the ECU a feature is bound to: `[A-Za-z0-9][A-Za-z0-9._:-]{0,63}`.
public struct ECUIdentifier: Sendable, Hashable, CustomStringConvertible {
    /// The identifier.
    public let value: String

    /// Validates an ECU identifier.
    /// - Throws: ``EntitlementError`` `ecu_invalid`.
    public init(_ value: String) throws {
        guard Identifier.isSimple(value, maxLength: 64, extra: UInt8(ascii: ":")) else {
            throw EntitlementError(.ecuInvalid, "ECU id \"\(value.prefix(70))\" is not [A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
        }
        self.value = value
    }

    public var description: String { value }
}
