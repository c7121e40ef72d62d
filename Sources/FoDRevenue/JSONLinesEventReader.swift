import FoDEntitlements

/// Reads events as JSON Lines: one object per line with the CSV's column names as members.
/// Values are strings; `gross_minor` and `vat_bps` may also be JSON integers; absent members and
/// `null` count as empty. A line that is not such an object is reported malformed.
public struct JSONLinesEventReader {
    /// Reads the whole source, delivering each object to `sink`.
    /// - Throws: what the source throws.
    public static func read(_ source: inout some ByteSource, into sink: some EventSink, progress: ((Int64) -> Void)? = nil) throws {
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var line: Int64 = 0
        var total: Int64 = 0
        var base: Int64 = 0  // the input offset of pending[0]
        sink.attach(Rereader(source: source))
        while true {
            let count = try chunk.withUnsafeMutableBytes { try source.read(into: $0) }
            total += Int64(count)
            progress?(total)
            if count > 0 { pending.append(contentsOf: chunk[0..<count]) }
            var start = 0
            while let newline = pending[start...].firstIndex(of: 0x0A) {
                line += 1
                handle(pending[start..<newline], line: line, offset: base + Int64(start), sink: sink)
                start = newline + 1
            }
            pending.removeFirst(start)
            base += Int64(start)
            if count == 0 {
                if !pending.isEmpty {
                    line += 1
                    handle(pending[...], line: line, offset: base, sink: sink)
                }
                return
            }
            if pending.count > CSVEventReader.maxRowLength {
                line += 1
                sink.malformed(line: line, eventID: "", reason: "line is longer than \(CSVEventReader.maxRowLength) bytes")
                base += Int64(pending.count)
                pending.removeAll()
            }
        }
    }

    /// Reads a line's `event_id` again from a copy of the source (``ByteSource/read(at:into:)``).
    final class Rereader<Source: ByteSource>: EventIDSource, @unchecked Sendable {
        // The copy is only read at offsets, which changes nothing in it.
        private let source: Source

        init(source: Source) { self.source = source }

        func eventID(atOffset offset: Int64) throws -> [UInt8] {
            var line: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 4096)
            while line.count <= CSVEventReader.maxRowLength {
                let count = try chunk.withUnsafeMutableBytes { try source.read(at: offset + Int64(line.count), into: $0) }
                if let newline = chunk[0..<count].firstIndex(of: 0x0A) {
                    line += chunk[0..<newline]
                    break
                }
                line += chunk[0..<count]
                if count == 0 { break }
            }
            if line.last == 0x0D { line.removeLast() }
            guard case .object(let object)? = try? JSONParser.parse(line), case .string(let id)? = object["event_id"] else {
                throw RevenueError(.eventsInvalid, "the line at byte \(offset) cannot be read again: the events file changed while it was read")
            }
            return Array(id.utf8)
        }
    }

    private static func handle(_ bytes: ArraySlice<UInt8>, line: Int64, offset: Int64, sink: some EventSink) {
        var text = Array(bytes)
        if text.last == 0x0D { text.removeLast() }
        if text.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }
        let object: JSONObject
        do {
            guard case .object(let parsed) = try JSONParser.parse(text) else {
                sink.malformed(line: line, eventID: "", reason: "the line is not a JSON object")
                return
            }
            object = parsed
        } catch {
            sink.malformed(line: line, eventID: "", reason: "the line is not valid JSON: \((error as? EntitlementError)?.reason ?? "\(error)")")
            return
        }
        var values = [[UInt8]](repeating: [], count: EventColumn.allCases.count)
        for member in object.members {
            guard let column = EventColumn.named(member.name) else {
                sink.malformed(line: line, eventID: object["event_id"]?.string ?? "", reason: "unknown member \"\(member.name.prefix(40))\"")
                return
            }
            switch member.value {
            case .string(let text): values[column.rawValue] = Array(text.utf8)
            case .number(let lexeme) where column == .grossMinor || column == .vatBps: values[column.rawValue] = Array(lexeme.utf8)
            case .null: values[column.rawValue] = []
            default:
                sink.malformed(line: line, eventID: object["event_id"]?.string ?? "", reason: "\"\(member.name)\" must be a string")
                return
            }
        }
        // Lay the values out in one buffer and hand out views of it.
        let joined = values.flatMap { $0 }
        joined.withUnsafeBytes { raw in
            var fields: [UnsafeRawBufferPointer] = []
            var position = 0
            for value in values {
                fields.append(UnsafeRawBufferPointer(rebasing: raw[position..<(position + value.count)]))
                position += value.count
            }
            sink.consume(RawEvent(line: line, fields: fields, offset: offset))
        }
    }
}
