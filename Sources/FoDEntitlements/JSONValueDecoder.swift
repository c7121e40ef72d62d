/// `Decodable` values from fod's ``JSONValue`` (what ``JSONParser`` read, strictly: duplicates
/// refused, numbers exact). Decoding errors are the standard `DecodingError`s with the member's
/// path, which ``StrictJSON`` turns into `field_missing` / `field_type`.
///
/// Hand-written rather than Foundation's `JSONDecoder`: a strict body must go through fod's parser
/// anyway (Foundation's takes the last of two duplicate members), and this decodes what that
/// parser read instead of parsing the bytes a second time. Not chosen for speed (see
/// ``JSONValueEncoder``).
public struct JSONValueDecoder: Sendable {
    public init() {}

    /// Decodes `type` from a parsed value.
    public func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try T(from: TreeDecoder(value: value, codingPath: []))
    }

    /// Parses `bytes` strictly, then decodes.
    /// - Throws: ``EntitlementError`` `json_malformed` / `json_duplicate_member`, or a `DecodingError`.
    public func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try decode(type, from: try JSONParser.parse(bytes))
    }
}

private struct TreeDecoder: Decoder {
    let value: JSONValue
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let object) = value else { throw Reading.mismatch([String: JSONValue].self, value, codingPath) }
        return KeyedDecodingContainer(KeyedReader<Key>(object: object, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let items) = value else { throw Reading.mismatch([JSONValue].self, value, codingPath) }
        return UnkeyedReader(items: items, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleReader(value: value, codingPath: codingPath) }
}

/// Scalars from JSON values, with the errors `JSONDecoder` would give.
private enum Reading {
    static func mismatch(_ type: Any.Type, _ value: JSONValue, _ path: [any CodingKey]) -> DecodingError {
        if value == .null {
            return .valueNotFound(type, .init(codingPath: path, debugDescription: "expected \(type), found null"))
        }
        return .typeMismatch(type, .init(codingPath: path, debugDescription: "expected \(type), found \(value.typeName)"))
    }

    static func string(_ value: JSONValue, _ path: [any CodingKey]) throws -> String {
        guard case .string(let text) = value else { throw mismatch(String.self, value, path) }
        return text
    }

    static func bool(_ value: JSONValue, _ path: [any CodingKey]) throws -> Bool {
        guard case .bool(let flag) = value else { throw mismatch(Bool.self, value, path) }
        return flag
    }

    static func integer<T: FixedWidthInteger>(_ type: T.Type, _ value: JSONValue, _ path: [any CodingKey]) throws -> T {
        guard case .number(let lexeme) = value else { throw mismatch(type, value, path) }
        guard let number = T(lexeme) ?? integralDigits(lexeme).flatMap({ T($0) }) else {
            throw DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: "\(lexeme) is not an integer that fits \(type)"))
        }
        return number
    }

    /// The integer a JSON number with a fraction or an exponent stands for, when it is one
    /// exactly (`22189.0`, `2.5e1`, `100e-2`), as decimal digits; `nil` otherwise. JSON Schema's
    /// `integer` is any number without a fractional part, however it is written. Exponents beyond
    /// ±40 are not integers that fit 64 bits anyway.
    static func integralDigits(_ lexeme: String) -> String? {
        var text = Substring(lexeme), negative = false
        if text.first == "-" { negative = true; text = text.dropFirst() }
        let parts = text.split(separator: "e", maxSplits: 1, omittingEmptySubsequences: false).flatMap { $0.split(separator: "E", maxSplits: 1, omittingEmptySubsequences: false) }
        guard (1...2).contains(parts.count), let mantissa = parts.first else { return nil }
        let exponent = parts.count == 2 ? Int(parts[1].hasPrefix("+") ? parts[1].dropFirst() : parts[1]) : 0
        guard let exponent, abs(exponent) <= 40 else { return nil }
        let pieces = mantissa.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = pieces.first, whole.allSatisfy(\.isASCII), whole.allSatisfy(\.isNumber), !whole.isEmpty else { return nil }
        let fraction = pieces.count == 2 ? pieces[1] : ""
        guard fraction.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        var digits = String(whole) + String(fraction)
        let point = whole.count + exponent  // digits before the decimal point
        if point >= digits.count {
            digits += String(repeating: "0", count: point - digits.count)
        } else {
            guard point >= 0, digits.dropFirst(point).allSatisfy({ $0 == "0" }) else { return nil }
            digits = String(digits.prefix(point))
        }
        let trimmed = digits.drop { $0 == "0" }
        return (negative && !trimmed.isEmpty ? "-" : "") + (trimmed.isEmpty ? "0" : String(trimmed))
    }

    static func floating<T: LosslessStringConvertible>(_ type: T.Type, _ value: JSONValue, _ path: [any CodingKey]) throws -> T {
        guard case .number(let lexeme) = value else { throw mismatch(type, value, path) }
        guard let number = T(lexeme) else {
            throw DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: "\(lexeme) is not a \(type)"))
        }
        return number
    }

    static func decode<T: Decodable>(_ type: T.Type, _ value: JSONValue, _ path: [any CodingKey]) throws -> T {
        if type == String.self { return try string(value, path) as! T }
        if type == JSONValue.self { return value as! T }
        return try T(from: TreeDecoder(value: value, codingPath: path))
    }
}

private struct KeyedReader<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let object: JSONObject
    let codingPath: [any CodingKey]

    var allKeys: [Key] { object.members.compactMap { Key(stringValue: $0.name) } }
    func contains(_ key: Key) -> Bool { object[key.stringValue] != nil }

    private func value(_ key: Key) throws -> JSONValue {
        guard let value = object[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "no member \"\(key.stringValue)\""))
        }
        return value
    }

    func decodeNil(forKey key: Key) throws -> Bool { try value(key) == .null }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try Reading.bool(try value(key), codingPath + [key]) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try Reading.string(try value(key), codingPath + [key]) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try Reading.floating(type, try value(key), codingPath + [key]) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try Reading.floating(type, try value(key), codingPath + [key]) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try Reading.integer(type, try value(key), codingPath + [key]) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try Reading.integer(type, try value(key), codingPath + [key]) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try Reading.integer(type, try value(key), codingPath + [key]) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try Reading.integer(type, try value(key), codingPath + [key]) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try Reading.integer(type, try value(key), codingPath + [key]) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try Reading.integer(type, try value(key), codingPath + [key]) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try Reading.integer(type, try value(key), codingPath + [key]) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try Reading.integer(type, try value(key), codingPath + [key]) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try Reading.integer(type, try value(key), codingPath + [key]) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try Reading.integer(type, try value(key), codingPath + [key]) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try Reading.decode(type, try value(key), codingPath + [key]) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try TreeDecoder(value: try value(key), codingPath: codingPath + [key]).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try TreeDecoder(value: try value(key), codingPath: codingPath + [key]).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { TreeDecoder(value: object["super"] ?? .null, codingPath: codingPath) }
    func superDecoder(forKey key: Key) throws -> any Decoder { TreeDecoder(value: object[key.stringValue] ?? .null, codingPath: codingPath + [key]) }
}

private struct ElementKey: CodingKey {
    let intValue: Int?
    var stringValue: String { String(intValue ?? 0) }
    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.intValue = intValue }
}

private struct UnkeyedReader: UnkeyedDecodingContainer {
    let items: [JSONValue]
    let codingPath: [any CodingKey]
    var currentIndex = 0

    init(items: [JSONValue], codingPath: [any CodingKey]) {
        self.items = items
        self.codingPath = codingPath
    }

    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    private mutating func next(_ type: Any.Type) throws -> (JSONValue, [any CodingKey]) {
        let path = codingPath + [ElementKey(currentIndex)]
        guard !isAtEnd else { throw DecodingError.valueNotFound(type, .init(codingPath: path, debugDescription: "the array has no more elements")) }
        defer { currentIndex += 1 }
        return (items[currentIndex], path)
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, items[currentIndex] == .null else { return false }
        currentIndex += 1
        return true
    }
    mutating func decode(_ type: Bool.Type) throws -> Bool { let (v, p) = try next(type); return try Reading.bool(v, p) }
    mutating func decode(_ type: String.Type) throws -> String { let (v, p) = try next(type); return try Reading.string(v, p) }
    mutating func decode(_ type: Double.Type) throws -> Double { let (v, p) = try next(type); return try Reading.floating(type, v, p) }
    mutating func decode(_ type: Float.Type) throws -> Float { let (v, p) = try next(type); return try Reading.floating(type, v, p) }
    mutating func decode(_ type: Int.Type) throws -> Int { let (v, p) = try next(type); return try Reading.integer(type, v, p) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { let (v, p) = try next(type); return try Reading.integer(type, v, p) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { let (v, p) = try next(type); return try Reading.integer(type, v, p) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { let (v, p) = try next(type); return try Reading.integer(type, v, p) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { let (v, p) = try next(type); return try Reading.integer(type, v, p) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { let (v, p) = try next(type); return try Reading.integer(type, v, p) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { let (v, p) = try next(type); return try Reading.integer(type, v, p) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { let (v, p) = try next(type); return try Reading.integer(type, v, p) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { let (v, p) = try next(type); return try Reading.integer(type, v, p) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { let (v, p) = try next(type); return try Reading.integer(type, v, p) }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { let (v, p) = try next(type); return try Reading.decode(type, v, p) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let (v, p) = try next(JSONObject.self)
        return try TreeDecoder(value: v, codingPath: p).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let (v, p) = try next([JSONValue].self)
        return try TreeDecoder(value: v, codingPath: p).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        let (v, p) = try next(JSONValue.self)
        return TreeDecoder(value: v, codingPath: p)
    }
}

private struct SingleReader: SingleValueDecodingContainer {
    let value: JSONValue
    let codingPath: [any CodingKey]

    func decodeNil() -> Bool { value == .null }
    func decode(_ type: Bool.Type) throws -> Bool { try Reading.bool(value, codingPath) }
    func decode(_ type: String.Type) throws -> String { try Reading.string(value, codingPath) }
    func decode(_ type: Double.Type) throws -> Double { try Reading.floating(type, value, codingPath) }
    func decode(_ type: Float.Type) throws -> Float { try Reading.floating(type, value, codingPath) }
    func decode(_ type: Int.Type) throws -> Int { try Reading.integer(type, value, codingPath) }
    func decode(_ type: Int8.Type) throws -> Int8 { try Reading.integer(type, value, codingPath) }
    func decode(_ type: Int16.Type) throws -> Int16 { try Reading.integer(type, value, codingPath) }
    func decode(_ type: Int32.Type) throws -> Int32 { try Reading.integer(type, value, codingPath) }
    func decode(_ type: Int64.Type) throws -> Int64 { try Reading.integer(type, value, codingPath) }
    func decode(_ type: UInt.Type) throws -> UInt { try Reading.integer(type, value, codingPath) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try Reading.integer(type, value, codingPath) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try Reading.integer(type, value, codingPath) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try Reading.integer(type, value, codingPath) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try Reading.integer(type, value, codingPath) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try Reading.decode(type, value, codingPath) }
}
