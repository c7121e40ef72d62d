import FoDCore

// The entitlement domain's validated values in JSON documents: their text, validated on decoding.

extension VIN: ValidatedString {
    /// Normalizes and validates as ``init(_:)`` does (requests may spell a VIN in lower case).
    public init(validating text: String) throws { try self.init(text) }
    public var text: String { value }
}

extension FeatureCode: ValidatedString {
    public init(validating text: String) throws { try self.init(text) }
    public var text: String { value }
}

extension DealerID: ValidatedString {
    public init(validating text: String) throws { try self.init(text) }
    public var text: String { value }
}

extension EntitlementID: ValidatedString {
    public init(validating text: String) throws { try self.init(text) }
    public var text: String { value }
}

extension Term: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        self = try Term(validating: try container.decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
