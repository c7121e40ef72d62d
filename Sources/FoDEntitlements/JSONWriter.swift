/// Writes JSON text into a byte buffer: compact for tokens, indented for people.
public struct JSONWriter {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8] = []

    /// Creates an empty writer with room for `capacity` bytes.
    public init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    /// Appends raw ASCII (structural characters, member names known to need no escaping).
    @inline(__always)
    public mutating func raw(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Appends a JSON string literal with the escapes RFC 8259 requires.
    public mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        let plain = value.withUTF8 { utf8 in
            for byte in utf8 where byte < 0x20 || byte == 0x22 || byte == 0x5C { return false }
            bytes.append(contentsOf: utf8)
            return true
        }
        if plain {
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for byte in value.utf8 {
            switch byte {
            case 0x22: bytes.append(0x5C); bytes.append(0x22)
            case 0x5C: bytes.append(0x5C); bytes.append(0x5C)
            case 0x0A: bytes.append(0x5C); bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(0x5C); bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(0x5C); bytes.append(UInt8(ascii: "t"))
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 15)]])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends an integer.
    public mutating func int(_ value: Int64) {
        if value == 0 { bytes.append(UInt8(ascii: "0")); return }
        var magnitude = value.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                      UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            while magnitude > 0 {
                buffer[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            }
        }
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        withUnsafeBytes(of: &digits) { buffer in
            for offset in stride(from: count - 1, through: 0, by: -1) { bytes.append(buffer[offset]) }
        }
    }

    /// Appends any JSON value; `indent` > 0 pretty-prints with that many spaces per level.
    public mutating func value(_ value: JSONValue, indent: Int = 0, level: Int = 0) {
        switch value {
        case .null: raw("null")
        case .bool(let flag): if flag { raw("true") } else { raw("false") }
        case .number(let lexeme): bytes.append(contentsOf: lexeme.utf8)
        case .string(let text): string(text)
        case .array(let elements):
            if elements.isEmpty { raw("[]"); return }
            raw("[")
            for (offset, element) in elements.enumerated() {
                if offset > 0 { raw(",") }
                newline(indent, level + 1)
                self.value(element, indent: indent, level: level + 1)
            }
            newline(indent, level)
            raw("]")
        case .object(let object):
            if object.members.isEmpty { raw("{}"); return }
            raw("{")
            for (offset, member) in object.members.enumerated() {
                if offset > 0 { raw(",") }
                newline(indent, level + 1)
                string(member.name)
                if indent > 0 { raw(": ") } else { raw(":") }
                self.value(member.value, indent: indent, level: level + 1)
            }
            newline(indent, level)
            raw("}")
        }
    }

    private mutating func newline(_ indent: Int, _ level: Int) {
        guard indent > 0 else { return }
        bytes.append(0x0A)
        bytes.append(contentsOf: repeatElement(0x20, count: indent * level))
    }

    /// The text written so far.
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// Serializes a value: compact, or indented when `indent` > 0.
    public static func text(_ value: JSONValue, indent: Int = 0) -> String {
        var writer = JSONWriter()
        writer.value(value, indent: indent)
        return writer.text
    }
}
