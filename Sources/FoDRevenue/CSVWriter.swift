/// Builds CSV text (RFC 4180: quotes only where a field needs them) into a byte buffer.
struct CSVWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 1 << 16) { bytes.reserveCapacity(capacity) }

    mutating func field(_ text: String, first: Bool = false) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        let needsQuotes = text.utf8.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }
        guard needsQuotes else {
            bytes.append(contentsOf: text.utf8)
            return
        }
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            if byte == UInt8(ascii: "\"") { bytes.append(byte) }
            bytes.append(byte)
        }
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func endRow() { bytes.append(0x0A) }

    mutating func row(_ fields: [String]) {
        for (index, text) in fields.enumerated() { field(text, first: index == 0) }
        endRow()
    }

    mutating func take() -> [UInt8] {
        defer { bytes.removeAll(keepingCapacity: true) }
        return bytes
    }
}
