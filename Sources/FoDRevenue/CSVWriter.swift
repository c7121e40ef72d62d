/// Builds CSV text (RFC 4180: quotes only where a field needs them) into a byte buffer.
///
/// ``append(field:to:)`` is the one definition of CSV quoting for every CSV fod writes (the report's
/// files and the events export).
public struct CSVWriter {
    /// The text so far.
    public private(set) var bytes: [UInt8] = []

    /// An empty writer.
    public init(capacity: Int = 1 << 16) { bytes.reserveCapacity(capacity) }

    /// Appends one field: as it is, or — when it holds a comma, a quote or a line break — in
    /// quotes with its quotes doubled.
    @inline(__always)
    public static func append(field: some Collection<UInt8>, to out: inout [UInt8]) {
        guard field.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }) else {
            out.append(contentsOf: field)
            return
        }
        out.append(UInt8(ascii: "\""))
        for byte in field {
            if byte == UInt8(ascii: "\"") { out.append(byte) }
            out.append(byte)
        }
        out.append(UInt8(ascii: "\""))
    }

    /// A field as CSV bytes (see ``append(field:to:)``).
    static func field(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        append(field: text.utf8, to: &out)
        return out
    }

    /// Appends a field, after a comma unless it is the row's first.
    public mutating func field(_ text: String, first: Bool = false) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        CSVWriter.append(field: text.utf8, to: &bytes)
    }

    /// Ends the row.
    public mutating func endRow() { bytes.append(0x0A) }

    /// Appends a whole row.
    public mutating func row(_ fields: [String]) {
        for (index, text) in fields.enumerated() { field(text, first: index == 0) }
        endRow()
    }

    /// The text so far, leaving the writer empty.
    public mutating func take() -> [UInt8] {
        defer { bytes.removeAll(keepingCapacity: true) }
        return bytes
    }
}
