/// The fields of an events file, in the order `fod` writes them.
public enum EventColumn: Int, CaseIterable, Sendable {
    case eventID, occurredAt, kind, refersTo, vin, feature, term, channel, dealerID, market, currency, grossMinor, vatBps

    /// The column name in the header row (and the JSON Lines member name).
    public var name: String {
        switch self {
        case .eventID: "event_id"
        case .occurredAt: "occurred_at"
        case .kind: "kind"
        case .refersTo: "refers_to"
        case .vin: "vin"
        case .feature: "feature"
        case .term: "term"
        case .channel: "channel"
        case .dealerID: "dealer_id"
        case .market: "market"
        case .currency: "currency"
        case .grossMinor: "gross_minor"
        case .vatBps: "vat_bps"
        }
    }

    /// The header row fod writes.
    public static let headerLine = allCases.map(\.name).joined(separator: ",")

    /// The column with this name.
    public static func named(_ name: String) -> EventColumn? { allCases.first { $0.name == name } }
}

/// One row of an events file as raw field bytes, valid only during the callback that receives it.
public struct RawEvent {
    /// The physical line the row starts on (the header is line 1).
    public var line: Int64
    /// The byte offset in the input where the row starts, from which ``EventIDSource`` reads
    /// its id again.
    public var offset: Int64
    /// Field bytes by ``EventColumn`` raw value.
    public var fields: [UnsafeRawBufferPointer]
    /// The row's bytes as read, when every field lies inside them (no quoted field was unescaped):
    /// lets a consumer copy a row with one copy.
    public var span: UnsafeRawBufferPointer?

    /// A row.
    public init(line: Int64, fields: [UnsafeRawBufferPointer], span: UnsafeRawBufferPointer? = nil, offset: Int64 = 0) {
        self.line = line
        self.offset = offset
        self.fields = fields
        self.span = span
    }

    /// The bytes of one field.
    @inline(__always)
    public subscript(_ column: EventColumn) -> UnsafeRawBufferPointer { fields[column.rawValue] }

    /// A field as a string (for messages and slow paths).
    public func string(_ column: EventColumn) -> String { String(decoding: self[column], as: UTF8.self) }
}

/// Where an events reader gets its bytes: the caller's file, pipe or memory.
public protocol ByteSource {
    /// Fills as much of `buffer` as is available; returns 0 at the end.
    /// - Throws: whatever the underlying read throws.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int

    /// Reads bytes at an absolute offset without moving the stream, from any copy of the source
    /// and any thread: the report reads an earlier row's id again to confirm a match exactly.
    /// Returns fewer bytes than asked only at the end of the input.
    /// - Throws: ``RevenueError`` `events_invalid` where the input cannot be read twice (the default).
    func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

extension ByteSource {
    public func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        throw RevenueError(.eventsInvalid, "the events input must be a file that can be read twice (not a pipe): ids are confirmed by reading them again")
    }
}

/// Bytes held in memory, as a ``ByteSource``.
public struct MemoryByteSource: ByteSource {
    private let bytes: [UInt8]
    private var offset = 0
    /// A source over `bytes`.
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = min(buffer.count, bytes.count - offset)
        bytes.withUnsafeBytes { source in
            buffer.baseAddress!.copyMemory(from: source.baseAddress! + offset, byteCount: count)
        }
        offset += count
        return count
    }

    public func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard offset >= 0, offset < Int64(bytes.count) else { return 0 }
        let count = min(buffer.count, bytes.count - Int(offset))
        bytes.withUnsafeBytes { source in
            buffer.baseAddress!.copyMemory(from: source.baseAddress! + Int(offset), byteCount: count)
        }
        return count
    }
}
