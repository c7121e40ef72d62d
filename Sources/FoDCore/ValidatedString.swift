/// A validated value that JSON writes as its text (a VIN, a market, a currency code): decoding
/// validates, so a decoded document holds only valid values, and the value's own error (with its
/// stable code) is what a bad member throws.
public protocol ValidatedString: Codable, Sendable {
    /// Validates `text`.
    init(validating text: String) throws
    /// The text JSON carries.
    var text: String { get }
}

extension ValidatedString {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        try self.init(validating: try container.decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}

extension Market: ValidatedString {
    public init(validating text: String) throws { try self.init(text) }
    public var text: String { code }
}

extension Currency: ValidatedString {
    public init(validating text: String) throws { try self.init(text) }
    public var text: String { code }
}

extension Instant: Codable {
    /// An instant is JSON's RFC 3339 string.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        try self.init(rfc3339: try container.decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rfc3339)
    }
}
