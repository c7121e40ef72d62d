/// The ids (and VINs, `refers_to`s) of the held rows: bytes appended in pairs into chunks of
/// 1 MiB that never move, so memory grows by one chunk at a time — never by copying everything
/// into a buffer twice the size, as an array does (which for a moment needs three times the bytes).
///
/// An offset is the chunk's number times the chunk size plus the position in it; a pair never
/// spans two chunks, so every stored string is one contiguous run of bytes.
final class ByteArena: @unchecked Sendable {
    // Only appended to by the builder's thread; read-only once the report is handed out.
    static let chunkShift = 20
    static let chunkSize = 1 << chunkShift
    private var chunks: [UnsafeMutableRawPointer] = []
    private var used = ByteArena.chunkSize

    deinit { for chunk in chunks { chunk.deallocate() } }

    /// The bytes held in chunks.
    var bytes: Int { chunks.count * ByteArena.chunkSize }

    /// Appends two byte strings one after the other (together at most a chunk); returns the first's offset.
    /// - Throws: ``RevenueError`` `overflow` past 4 GiB.
    func append(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer) throws -> UInt32 {
        let length = first.count + second.count
        precondition(length <= ByteArena.chunkSize)
        if used + length > ByteArena.chunkSize {
            guard chunks.count < Int(UInt32.max) >> ByteArena.chunkShift else {
                throw RevenueError(.overflow, "more than 4 GiB of ids in two months")
            }
            chunks.append(.allocate(byteCount: ByteArena.chunkSize, alignment: 16))
            used = 0
        }
        let base = chunks[chunks.count - 1] + used
        if let address = first.baseAddress { base.copyMemory(from: address, byteCount: first.count) }
        if let address = second.baseAddress { (base + first.count).copyMemory(from: address, byteCount: second.count) }
        let offset = UInt32((chunks.count - 1) << ByteArena.chunkShift + used)
        used += length
        return offset
    }

    /// The `length` bytes at `offset`.
    @inline(__always)
    subscript(offset: UInt32, length: Int) -> UnsafeRawBufferPointer {
        let chunk = chunks[Int(offset) >> ByteArena.chunkShift]
        return UnsafeRawBufferPointer(start: chunk + (Int(offset) & (ByteArena.chunkSize - 1)), count: length)
    }

    /// The bytes at `offset` as a string.
    func string(_ offset: UInt32, _ length: Int) -> String { String(decoding: self[offset, length], as: UTF8.self) }
}

/// An append-only array of fixed-size records in chunks of 65,536, for the same reason as
/// ``ByteArena``: it grows a chunk at a time, never by copying itself.
struct ChunkedArray<Element>: RandomAccessCollection {
    static var chunkShift: Int { 16 }
    private var chunks: [[Element]] = []
    private(set) var count = 0

    init() {}

    var startIndex: Int { 0 }
    var endIndex: Int { count }

    @inline(__always)
    subscript(position: Int) -> Element {
        get { chunks[position >> Self.chunkShift][position & ((1 << Self.chunkShift) - 1)] }
        set { chunks[position >> Self.chunkShift][position & ((1 << Self.chunkShift) - 1)] = newValue }
    }

    mutating func append(_ element: Element) {
        if count & ((1 << Self.chunkShift) - 1) == 0 {
            var chunk: [Element] = []
            chunk.reserveCapacity(1 << Self.chunkShift)
            chunks.append(chunk)
        }
        chunks[chunks.count - 1].append(element)
        count += 1
    }

    /// Keeps the elements `keep` takes, in order, in place (no second copy).
    mutating func keep(where keep: (Element) -> Bool) {
        var kept = 0
        for index in 0..<count where keep(self[index]) {
            if kept != index { self[kept] = self[index] }
            kept += 1
        }
        let chunkCount = (kept + (1 << Self.chunkShift) - 1) >> Self.chunkShift
        chunks.removeLast(chunks.count - chunkCount)
        if chunkCount > 0 { chunks[chunkCount - 1].removeLast(chunks[chunkCount - 1].count - (kept - ((chunkCount - 1) << Self.chunkShift))) }
        count = kept
    }
}

extension ChunkedArray: Sendable where Element: Sendable {}
