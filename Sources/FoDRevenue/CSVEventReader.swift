/// Reads an events CSV (RFC 4180: header row, comma-separated, double-quoted fields with `""`
/// escapes and embedded line breaks, LF or CRLF line ends) as a stream of ``RawEvent``s.
///
/// The reader owns one buffer that the source fills directly and that is reused for the whole
/// file, so memory does not grow with the file; rows without quotes take a byte loop with no
/// copying at all. A row longer than ``maxRowLength`` is reported malformed and skipped.
public struct CSVEventReader {
    /// The longest row accepted, in bytes.
    public static let maxRowLength = 1 << 20
    private static let bufferSize = 4 << 20

    /// Reads the whole source, delivering each row to `sink`; `progress` gets the bytes read so far.
    /// - Throws: ``RevenueError`` `events_invalid` for a missing or bad header row, or what the source throws.
    public static func read(_ source: inout some ByteSource, into sink: some EventSink, progress: ((Int64) -> Void)? = nil) throws {
        var buffer = [UInt8](repeating: 0, count: bufferSize + 1)
        var start = 0, end = 0
        var eof = false
        var line: Int64 = 1
        var bytesRead: Int64 = 0
        var base: Int64 = 0  // the input offset of buffer[0]
        var columns: [Int]? = nil  // file column → EventColumn raw value, -1 for none
        var fields = [UnsafeRawBufferPointer](repeating: UnsafeRawBufferPointer(start: nil, count: 0), count: EventColumn.allCases.count)
        // Unescaped quoted fields of the current row; a row never exceeds the buffer.
        let scratchBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 8)
        defer { scratchBuffer.deallocate() }
        var scratch = Scratch(buffer: scratchBuffer)
        var rawFields = [UnsafeRawBufferPointer]()
        rawFields.reserveCapacity(32)
        var firstChunk = true

        while true {
            if !eof && end < bufferSize {
                let count = try buffer.withUnsafeMutableBytes { raw in
                    try source.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[end..<bufferSize]))
                }
                if count == 0 { eof = true }
                end += count
                bytesRead += Int64(count)
                progress?(bytesRead)
                if firstChunk, end - start >= 3, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF { start = 3 }
                firstChunk = false
                if !eof && end < bufferSize { continue }
            }
            let consumed: Int = try buffer.withUnsafeBytes { raw in
                var position = start
                while position < end {
                    let recordStart = position
                    rawFields.removeAll(keepingCapacity: true)
                    scratch.count = 0
                    let outcome = parseRecord(raw, from: &position, end: end, eof: eof, fields: &rawFields, scratch: &scratch, lines: &line)
                    switch outcome {
                    case .incomplete:
                        if end - recordStart > maxRowLength || eof {
                            // Too long, or cut off at the end of the file: report and skip the line.
                            let lineStart = line
                            position = skipLine(raw, from: recordStart, end: end, lines: &line)
                            sink.malformed(line: lineStart, eventID: "", reason: eof ? "row is cut off (unterminated quoted field)" : "row is longer than \(maxRowLength) bytes")
                            continue
                        }
                        return recordStart
                    case .blank:
                        continue
                    case .malformed(let reason, let recordLine):
                        position = skipLine(raw, from: position, end: end, lines: &line)
                        sink.malformed(line: recordLine, eventID: "", reason: reason)
                        continue
                    case .record(let recordLine, let quoted):
                        guard let map = columns else {
                            let map = try headerMap(rawFields)
                            columns = map
                            sink.attach(Rereader(source: source, idColumn: map.firstIndex(of: EventColumn.eventID.rawValue)!))
                            continue
                        }
                        guard rawFields.count == map.count else {
                            let id = map.firstIndex(of: EventColumn.eventID.rawValue).flatMap { $0 < rawFields.count ? String(decoding: rawFields[$0], as: UTF8.self) : nil } ?? ""
                            sink.malformed(line: recordLine, eventID: String(id.prefix(64)),
                                           reason: "row has \(rawFields.count) fields; the header has \(map.count)")
                            continue
                        }
                        for (index, column) in map.enumerated() { fields[column] = rawFields[index] }
                        let span = quoted ? nil : UnsafeRawBufferPointer(rebasing: raw[recordStart..<position])
                        sink.consume(RawEvent(line: recordLine, fields: fields, span: span, offset: base + Int64(recordStart)))
                    }
                }
                return position
            }
            if consumed < end {
                buffer.withUnsafeMutableBytes { raw in
                    raw.baseAddress!.copyMemory(from: raw.baseAddress! + consumed, byteCount: end - consumed)
                }
            }
            end -= consumed
            base += Int64(consumed)
            start = 0
            if eof && end == 0 { break }
            if eof && consumed == 0 && end > 0 {
                // Cannot happen: at end of file every row is consumed or reported.
                break
            }
        }
        if columns == nil { throw RevenueError(.eventsInvalid, "the events file is empty: it needs a header row (\(EventColumn.headerLine))") }
    }

    /// Reads a row's id again from a copy of the source (``ByteSource/read(at:into:)``).
    final class Rereader<Source: ByteSource>: EventIDSource, @unchecked Sendable {
        // The copy is only read at offsets, which changes nothing in it.
        private let source: Source
        private let idColumn: Int

        init(source: Source, idColumn: Int) {
            self.source = source
            self.idColumn = idColumn
        }

        func eventID(atOffset offset: Int64) throws -> [UInt8] {
            var size = 1024
            while true {
                let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 8)
                defer { chunk.deallocate() }
                var count = 0
                while count < size {
                    let got = try source.read(at: offset + Int64(count), into: UnsafeMutableRawBufferPointer(rebasing: chunk[count...]))
                    if got == 0 { break }
                    count += got
                }
                let scratchBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 8)
                defer { scratchBuffer.deallocate() }
                var scratch = Scratch(buffer: scratchBuffer)
                var fields: [UnsafeRawBufferPointer] = []
                var position = 0
                var lines: Int64 = 0
                switch parseRecord(UnsafeRawBufferPointer(chunk), from: &position, end: count, eof: count < size, fields: &fields,
                                   scratch: &scratch, lines: &lines) {
                case .record where idColumn < fields.count:
                    return Array(fields[idColumn])
                case .incomplete where count == size && size <= maxRowLength:
                    size *= 8
                default:
                    throw RevenueError(.eventsInvalid, "the row at byte \(offset) cannot be read again: the events file changed while it was read")
                }
            }
        }
    }

    private enum Outcome {
        case record(line: Int64, quoted: Bool)
        case blank
        case incomplete
        case malformed(String, line: Int64)
    }

    /// Parses one record starting at `position`; on `.record` the fields are in `fields`
    /// (pointing into `raw` or `scratch`) and `position` is past the line end.
    @inline(__always)
    private static func parseRecord(_ raw: UnsafeRawBufferPointer, from position: inout Int, end: Int, eof: Bool,
                                    fields: inout [UnsafeRawBufferPointer], scratch: inout Scratch, lines: inout Int64) -> Outcome {
        let recordLine = lines
        var index = position
        if index < end, raw[index] == 0x0A || raw[index] == 0x0D {
            // A blank line.
            if raw[index] == 0x0D {
                guard index + 1 < end || eof else { return .incomplete }
                if index + 1 < end, raw[index + 1] == 0x0A { index += 1 }
            }
            position = index + 1
            lines += 1
            return .blank
        }
        var newlinesInside: Int64 = 0
        var quoted = false
        while true {
            if index < end, raw[index] == UInt8(ascii: "\"") {
                // Quoted field: copy into scratch, unescaping "".
                quoted = true
                index += 1
                let scratchStart = scratch.count
                while true {
                    guard index < end else { return .incomplete }
                    let byte = raw[index]
                    if byte == UInt8(ascii: "\"") {
                        guard index + 1 < end || eof else { return .incomplete }
                        if index + 1 < end, raw[index + 1] == UInt8(ascii: "\"") {
                            scratch.append(UInt8(ascii: "\""))
                            index += 2
                            continue
                        }
                        index += 1
                        break
                    }
                    if byte == 0x0A { newlinesInside += 1 }
                    scratch.append(byte)
                    index += 1
                }
                fields.append(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(scratch.buffer)[scratchStart..<scratch.count]))
            } else {
                let fieldStart = index
                while index < end {
                    let byte = raw[index]
                    if byte == UInt8(ascii: ",") || byte == 0x0A || byte == 0x0D { break }
                    if byte == UInt8(ascii: "\"") { return .malformed("a quote inside an unquoted field", line: recordLine) }
                    index += 1
                }
                fields.append(UnsafeRawBufferPointer(rebasing: raw[fieldStart..<index]))
            }
            guard index < end else {
                if !eof { return .incomplete }
                break
            }
            let byte = raw[index]
            if byte == UInt8(ascii: ",") {
                index += 1
                if index == end && !eof { return .incomplete }
                continue
            }
            if byte == 0x0D {
                guard index + 1 < end || eof else { return .incomplete }
                if index + 1 < end, raw[index + 1] == 0x0A { index += 1 }
                index += 1
                break
            }
            if byte == 0x0A {
                index += 1
                break
            }
            return .malformed("unexpected character after a quoted field", line: recordLine)
        }
        position = index
        lines += 1 + newlinesInside
        return .record(line: recordLine, quoted: quoted)
    }

    /// Space for the unescaped bytes of the current row's quoted fields.
    struct Scratch {
        let buffer: UnsafeMutableRawBufferPointer
        var count = 0

        @inline(__always)
        mutating func append(_ byte: UInt8) {
            buffer[count] = byte
            count += 1
        }
    }

    /// Skips to just past the next line feed.
    private static func skipLine(_ raw: UnsafeRawBufferPointer, from position: Int, end: Int, lines: inout Int64) -> Int {
        var index = position
        while index < end, raw[index] != 0x0A { index += 1 }
        lines += 1
        return min(index + 1, end)
    }

    /// Maps the header's columns to ``EventColumn``s.
    private static func headerMap(_ names: [UnsafeRawBufferPointer]) throws -> [Int] {
        var map: [Int] = []
        var seen = Set<Int>()
        for raw in names {
            let name = String(decoding: raw, as: UTF8.self).trimmingASCIISpaces()
            guard let column = EventColumn.named(name) else {
                throw RevenueError(.eventsInvalid, "unknown column \"\(name.prefix(40))\" in the header row; the columns are \(EventColumn.headerLine)")
            }
            guard seen.insert(column.rawValue).inserted else { throw RevenueError(.eventsInvalid, "column \"\(name)\" appears twice in the header row") }
            map.append(column.rawValue)
        }
        let missing = EventColumn.allCases.filter { !seen.contains($0.rawValue) }.map(\.name)
        guard missing.isEmpty else { throw RevenueError(.eventsInvalid, "the header row lacks \(missing.joined(separator: ", "))") }
        return map
    }
}

extension String {
    /// The string without leading and trailing ASCII spaces and tabs.
    func trimmingASCIISpaces() -> String {
        let bytes = Array(utf8)
        var lower = 0, upper = bytes.count
        while lower < upper, bytes[lower] == 0x20 || bytes[lower] == 0x09 { lower += 1 }
        while upper > lower, bytes[upper - 1] == 0x20 || bytes[upper - 1] == 0x09 { upper -= 1 }
        return String(decoding: bytes[lower..<upper], as: UTF8.self)
    }
}
