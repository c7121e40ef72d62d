/// A JSON value inside a `Codable` document (a member whose shape is free, such as claims read
/// back by a client). Numbers go through `Int64` or `Double`; an object's members keep the
/// decoder's order.
extension JSONValue: Codable {
    private struct Name: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        if let object = try? decoder.container(keyedBy: Name.self) {
            self = .object(JSONObject(members: try object.allKeys.map { .init(name: $0.stringValue, value: try object.decode(JSONValue.self, forKey: $0)) }))
            return
        }
        if var array = try? decoder.unkeyedContainer() {
            var items: [JSONValue] = []
            while !array.isAtEnd { items.append(try array.decode(JSONValue.self)) }
            self = .array(items)
            return
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() { self = .null }
        else if let bool = try? single.decode(Bool.self) { self = .bool(bool) }
        else if let int = try? single.decode(Int64.self) { self = .number(String(int)) }
        else if let double = try? single.decode(Double.self) { self = .number(String(double)) }
        else { self = .string(try single.decode(String.self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .null:
            var single = encoder.singleValueContainer()
            try single.encodeNil()
        case .bool(let value):
            var single = encoder.singleValueContainer()
            try single.encode(value)
        case .number(let lexeme):
            var single = encoder.singleValueContainer()
            if let int = Int64(lexeme) { try single.encode(int) } else { try single.encode(Double(lexeme) ?? 0) }
        case .string(let value):
            var single = encoder.singleValueContainer()
            try single.encode(value)
        case .array(let items):
            var array = encoder.unkeyedContainer()
            for item in items { try array.encode(item) }
        case .object(let object):
            var container = encoder.container(keyedBy: Name.self)
            for member in object.members { try container.encode(member.value, forKey: Name(stringValue: member.name)) }
        }
    }
}
