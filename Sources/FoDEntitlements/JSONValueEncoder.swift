/// `Encodable` values as fod's ``JSONValue``, written by ``JSONWriter``: members in the order the
/// type encodes them (declaration order for synthesized conformances), numbers exact, the same
/// bytes every time.
///
/// Hand-written rather than Foundation's `JSONEncoder`, which keeps no member order: without
/// `.sortedKeys` its order changed from one process to the next (seen on Linux), and sorted it
/// would scatter a problem document's `type`/`title`/`status`. Not chosen for speed: swapping the
/// two left the verify endpoint's throughput within noise (`docs/benchmarks.md`).
public struct JSONValueEncoder: Sendable {
    public init() {}

    /// The value as a JSON value.
    /// - Throws: `EncodingError` when the value encodes nothing or a non-finite number.
    public func encode(_ value: some Encodable) throws -> JSONValue {
        let root = Slot()
        try value.encode(to: TreeEncoder(slot: root, codingPath: []))
        guard let result = root.resolve() else {
            throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: "the value encoded nothing"))
        }
        return result
    }

    /// The value as compact JSON bytes.
    public func bytes(_ value: some Encodable) throws -> [UInt8] {
        var writer = JSONWriter(capacity: 512)
        writer.value(try encode(value))
        return writer.bytes
    }
}

/// Where one value goes: filled once by a container or a single value.
private final class Slot {
    enum Content {
        case empty
        case value(JSONValue)
        case object(ObjectBox)
        case array(ArrayBox)
    }
    var content: Content = .empty

    func resolve() -> JSONValue? {
        switch content {
        case .empty: nil
        case .value(let value): value
        case .object(let box): .object(JSONObject(members: box.members.compactMap { name, slot in slot.resolve().map { .init(name: name, value: $0) } }))
        case .array(let box): .array(box.items.compactMap { $0.resolve() })
        }
    }

    func object() -> ObjectBox {
        if case .object(let box) = content { return box }
        let box = ObjectBox()
        content = .object(box)
        return box
    }

    func array() -> ArrayBox {
        if case .array(let box) = content { return box }
        let box = ArrayBox()
        content = .array(box)
        return box
    }
}

private final class ObjectBox {
    var members: [(String, Slot)] = []

    /// The slot of `name`; encoding a name again replaces its value in place.
    func slot(_ name: String) -> Slot {
        if let index = members.firstIndex(where: { $0.0 == name }) {
            members[index].1 = Slot()
            return members[index].1
        }
        let slot = Slot()
        members.append((name, slot))
        return slot
    }
}

private final class ArrayBox {
    var items: [Slot] = []

    func next() -> Slot {
        let slot = Slot()
        items.append(slot)
        return slot
    }
}

private struct TreeEncoder: Encoder {
    let slot: Slot
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(KeyedWriter<Key>(box: slot.object(), codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer { UnkeyedWriter(box: slot.array(), codingPath: codingPath) }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleWriter(slot: slot, codingPath: codingPath) }
}

/// The scalar values of every container.
private enum Scalar {
    static func number<T: BinaryFloatingPoint & LosslessStringConvertible>(_ value: T, _ path: [any CodingKey]) throws -> JSONValue {
        guard value.isFinite else { throw EncodingError.invalidValue(value, .init(codingPath: path, debugDescription: "JSON has no \(value)")) }
        return .number(String(value))
    }

    static func encode<T: Encodable>(_ value: T, into slot: Slot, _ path: [any CodingKey]) throws {
        // Type comparisons, not casts: this runs for every member.
        if T.self == String.self {
            slot.content = .value(.string(unsafeBitCast(value, to: String.self)))
        } else if T.self == JSONValue.self {
            slot.content = .value(unsafeBitCast(value, to: JSONValue.self))
        } else {
            try value.encode(to: TreeEncoder(slot: slot, codingPath: path))
        }
    }
}

private struct KeyedWriter<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let box: ObjectBox
    let codingPath: [any CodingKey]

    private func put(_ value: JSONValue, _ key: Key) { box.slot(key.stringValue).content = .value(value) }

    mutating func encodeNil(forKey key: Key) throws { put(.null, key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { put(.bool(value), key) }
    mutating func encode(_ value: String, forKey key: Key) throws { put(.string(value), key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { put(try Scalar.number(value, codingPath + [key]), key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { put(try Scalar.number(value, codingPath + [key]), key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { put(.number(String(value)), key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { put(.number(String(value)), key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { put(.number(String(value)), key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { put(.number(String(value)), key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { put(.number(String(value)), key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { put(.number(String(value)), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { put(.number(String(value)), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { put(.number(String(value)), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { put(.number(String(value)), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { put(.number(String(value)), key) }
    mutating func encode(_ value: some Encodable, forKey key: Key) throws {
        try Scalar.encode(value, into: box.slot(key.stringValue), codingPath + [key])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        KeyedEncodingContainer(KeyedWriter<NestedKey>(box: box.slot(key.stringValue).object(), codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        UnkeyedWriter(box: box.slot(key.stringValue).array(), codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder { TreeEncoder(slot: box.slot("super"), codingPath: codingPath) }
    mutating func superEncoder(forKey key: Key) -> any Encoder { TreeEncoder(slot: box.slot(key.stringValue), codingPath: codingPath + [key]) }
}

private struct IndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { String(intValue ?? 0) }
    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.intValue = intValue }
}

private struct UnkeyedWriter: UnkeyedEncodingContainer {
    let box: ArrayBox
    let codingPath: [any CodingKey]
    var count: Int { box.items.count }

    private func put(_ value: JSONValue) { box.next().content = .value(value) }
    private var path: [any CodingKey] { codingPath + [IndexKey(count)] }

    mutating func encodeNil() throws { put(.null) }
    mutating func encode(_ value: Bool) throws { put(.bool(value)) }
    mutating func encode(_ value: String) throws { put(.string(value)) }
    mutating func encode(_ value: Double) throws { put(try Scalar.number(value, path)) }
    mutating func encode(_ value: Float) throws { put(try Scalar.number(value, path)) }
    mutating func encode(_ value: Int) throws { put(.number(String(value))) }
    mutating func encode(_ value: Int8) throws { put(.number(String(value))) }
    mutating func encode(_ value: Int16) throws { put(.number(String(value))) }
    mutating func encode(_ value: Int32) throws { put(.number(String(value))) }
    mutating func encode(_ value: Int64) throws { put(.number(String(value))) }
    mutating func encode(_ value: UInt) throws { put(.number(String(value))) }
    mutating func encode(_ value: UInt8) throws { put(.number(String(value))) }
    mutating func encode(_ value: UInt16) throws { put(.number(String(value))) }
    mutating func encode(_ value: UInt32) throws { put(.number(String(value))) }
    mutating func encode(_ value: UInt64) throws { put(.number(String(value))) }
    mutating func encode(_ value: some Encodable) throws {
        let path = self.path
        try Scalar.encode(value, into: box.next(), path)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let path = self.path
        return KeyedEncodingContainer(KeyedWriter<NestedKey>(box: box.next().object(), codingPath: path))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let path = self.path
        return UnkeyedWriter(box: box.next().array(), codingPath: path)
    }

    mutating func superEncoder() -> any Encoder {
        let path = self.path
        return TreeEncoder(slot: box.next(), codingPath: path)
    }
}

private struct SingleWriter: SingleValueEncodingContainer {
    let slot: Slot
    let codingPath: [any CodingKey]

    private func put(_ value: JSONValue) { slot.content = .value(value) }

    mutating func encodeNil() throws { put(.null) }
    mutating func encode(_ value: Bool) throws { put(.bool(value)) }
    mutating func encode(_ value: String) throws { put(.string(value)) }
    mutating func encode(_ value: Double) throws { put(try Scalar.number(value, codingPath)) }
    mutating func encode(_ value: Float) throws { put(try Scalar.number(value, codingPath)) }
    mutating func encode(_ value: Int) throws { put(.number(String(value))) }
    mutating func encode(_ value: Int8) throws { put(.number(String(value))) }
    mutating func encode(_ value: Int16) throws { put(.number(String(value))) }
    mutating func encode(_ value: Int32) throws { put(.number(String(value))) }
    mutating func encode(_ value: Int64) throws { put(.number(String(value))) }
    mutating func encode(_ value: UInt) throws { put(.number(String(value))) }
    mutating func encode(_ value: UInt8) throws { put(.number(String(value))) }
    mutating func encode(_ value: UInt16) throws { put(.number(String(value))) }
    mutating func encode(_ value: UInt32) throws { put(.number(String(value))) }
    mutating func encode(_ value: UInt64) throws { put(.number(String(value))) }
    mutating func encode(_ value: some Encodable) throws { try Scalar.encode(value, into: slot, codingPath) }
}
