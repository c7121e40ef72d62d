/// A JSON value as fod's strict parser produces it: objects keep member order and never hold
/// a name twice; numbers keep their exact lexeme.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    /// A number, as its validated RFC 8259 lexeme.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The number as an `Int64` when it is written as an integer (no fraction, no exponent)
    /// that fits; `nil` otherwise.
    public var int64: Int64? {
        guard case .number(let lexeme) = self else { return nil }
        return Int64(lexeme)
    }

    /// The string value, or `nil`.
    public var string: String? {
        guard case .string(let value) = self else { return nil }
        return value
    }

    /// The elements, if this is an array.
    public var elements: [JSONValue]? {
        guard case .array(let value) = self else { return nil }
        return value
    }

    /// The object, or `nil`.
    public var object: JSONObject? {
        guard case .object(let value) = self else { return nil }
        return value
    }

    /// A short name of the JSON type, for error messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

/// A JSON object with its members in document order and unique names.
public struct JSONObject: Sendable, Hashable {
    /// One member of an object.
    public struct Member: Sendable, Hashable {
        public let name: String
        public let value: JSONValue
        public init(name: String, value: JSONValue) {
            self.name = name
            self.value = value
        }
    }

    /// The members, in document order.
    public let members: [Member]

    /// Creates an object from members whose names are unique (the caller guarantees it).
    public init(members: [Member]) { self.members = members }

    /// The value of the member called `name`, or `nil`.
    public subscript(name: String) -> JSONValue? {
        for member in members where member.name == name { return member.value }
        return nil
    }
}
