/// One line of the book extract as it is sorted: what orders it (dealer, time, kind, id) and
/// what ``ReportLines`` writes from it, with its strings in a byte buffer beside it — the event
/// id, then `refers_to` (a clawback's activation id), then the 17 VIN bytes, from `bytesOffset`.
struct LineEntry {
    var time: Int64
    var gross: Int64
    /// The dealer's place in the sorted dealer ids; -1 for none (first).
    var dealerRank: Int32
    var dealer: Int32
    var saleKind: Int32
    var rule: Int32
    /// The tier bonus of the dealer in the activation's month.
    var tierBonusBps: Int32
    var bytesOffset: UInt32
    var eventIDLength: UInt8
    var refersToLength: UInt8
    var isClawback: Bool

    static let empty = LineEntry(time: 0, gross: 0, dealerRank: 0, dealer: -1, saleKind: 0, rule: 0, tierBonusBps: 0, bytesOffset: 0,
                                 eventIDLength: 0, refersToLength: 0, isClawback: false)

    /// Whether `a` (strings in `aBytes`) comes before `b`: dealer, time, activation before
    /// clawback, then the event id's bytes (ids are unique, so no two lines are equal).
    @inline(__always)
    static func precedes(_ a: LineEntry, _ aBytes: UnsafeRawBufferPointer, _ b: LineEntry, _ bBytes: UnsafeRawBufferPointer) -> Bool {
        if a.dealerRank != b.dealerRank { return a.dealerRank < b.dealerRank }
        if a.time != b.time { return a.time < b.time }
        if a.isClawback != b.isClawback { return !a.isClawback }
        let x = UnsafeRawBufferPointer(rebasing: aBytes[Int(a.bytesOffset)..<(Int(a.bytesOffset) + Int(a.eventIDLength))])
        let y = UnsafeRawBufferPointer(rebasing: bBytes[Int(b.bytesOffset)..<(Int(b.bytesOffset) + Int(b.eventIDLength))])
        for (p, q) in zip(x, y) where p != q { return p < q }
        return x.count < y.count
    }
}

/// Sorts the book extract's lines within a byte budget, as an external merge sort: lines collect
/// in memory; when they reach the budget they are sorted and written to a temporary file as one
/// run, in pages; reading merges the runs (and the last, in memory). Below the budget nothing is
/// written and reading walks the one sorted run in memory.
final class LineSorter: @unchecked Sendable {
    // Filled by one thread; once ``seal()`` ran it is only read, and reads share nothing mutable
    // (each walk has its own page buffers; `pread` on the file is safe from several threads).

    /// A page of a run on disk: its lines, then their bytes.
    fileprivate struct Page {
        let at: Int64
        let count: Int
        let byteCount: Int
    }

    /// Lines per page on disk (tests make it small).
    let pageLines: Int
    private let folder: String
    private var file: SpillFile?
    private var runs: [[Page]] = []
    private var entries: [LineEntry] = []
    private var bytes: [UInt8] = []
    /// How many lines there are.
    private(set) var count = 0

    /// Lines and bytes of strings that fill the memory: half the budget each, reserved up front
    /// (untouched memory costs nothing) so that neither grows by copying itself.
    private let entryLimit: Int
    private let byteLimit: Int

    init(budget: Int, folder: String, pageLines: Int = 4096) {
        self.folder = folder
        self.pageLines = pageLines
        if budget < Int.max / 2 {
            entryLimit = max(budget / 2 / MemoryLayout<LineEntry>.stride, 1)
            byteLimit = max(budget / 2, LineSorter.longestStrings)
            entries.reserveCapacity(entryLimit)
            bytes.reserveCapacity(byteLimit)
        } else {
            entryLimit = Int.max
            byteLimit = Int.max
        }
    }

    /// The most bytes of strings one line has: two ids of 64 bytes and a VIN.
    private static let longestStrings = 64 + 64 + 17

    /// How many runs were written to the temporary file.
    var storedRuns: Int { runs.count }

    /// Adds a line; its strings are `eventID`, `refersTo` and `vin`.
    /// - Throws: ``RevenueError`` `spill_failed` when a run cannot be written.
    func append(_ line: LineEntry, eventID: UnsafeRawBufferPointer, refersTo: UnsafeRawBufferPointer, vin: UnsafeRawBufferPointer) throws {
        var entry = line
        entry.bytesOffset = UInt32(bytes.count)
        entry.eventIDLength = UInt8(eventID.count)
        entry.refersToLength = UInt8(refersTo.count)
        bytes.append(contentsOf: eventID)
        bytes.append(contentsOf: refersTo)
        bytes.append(contentsOf: vin)
        entries.append(entry)
        count += 1
        // A run also ends before its strings pass 4 GiB (the offsets are 32 bits), with or without a budget.
        if entries.count >= entryLimit || bytes.count > min(byteLimit, Int(UInt32.max)) - LineSorter.longestStrings { try writeRun() }
    }

    private func sortInMemory() {
        bytes.withUnsafeBytes { buffer in
            entries.sort { LineEntry.precedes($0, buffer, $1, buffer) }
        }
    }

    /// Sorts the lines in memory and writes them out as a run of pages.
    private func writeRun() throws {
        sortInMemory()
        if file == nil { file = try SpillFile(folder: folder) }
        var pages: [Page] = []
        var pageEntries: [LineEntry] = []
        var pageBytes: [UInt8] = []
        pageEntries.reserveCapacity(pageLines)
        func flush() throws {
            guard !pageEntries.isEmpty else { return }
            let at = try pageEntries.withUnsafeBytes { try file!.append($0) }
            try pageBytes.withUnsafeBytes { _ = try file!.append($0) }
            pages.append(Page(at: at, count: pageEntries.count, byteCount: pageBytes.count))
            pageEntries.removeAll(keepingCapacity: true)
            pageBytes.removeAll(keepingCapacity: true)
        }
        for entry in entries {
            var moved = entry
            let length = Int(entry.eventIDLength) + Int(entry.refersToLength) + 17
            moved.bytesOffset = UInt32(pageBytes.count)
            pageBytes.append(contentsOf: bytes[Int(entry.bytesOffset)..<(Int(entry.bytesOffset) + length)])
            pageEntries.append(moved)
            if pageEntries.count == pageLines { try flush() }
        }
        try flush()
        runs.append(pages)
        entries.removeAll(keepingCapacity: true)
        bytes.removeAll(keepingCapacity: true)
    }

    /// Ends adding: sorts what is in memory. Lines can be read from then on.
    func seal() {
        sortInMemory()
    }

    /// A walk through the lines in order.
    func makeMerge() -> LineMerge { LineMerge(self) }

    /// One run being read: its current page in memory.
    fileprivate final class Cursor {
        var entries: [LineEntry]
        var bytes: [UInt8]
        var index = 0
        private var pages: ArraySlice<Page>
        private let file: SpillFile?

        init(entries: [LineEntry], bytes: [UInt8]) {
            self.entries = entries
            self.bytes = bytes
            pages = []
            file = nil
        }

        init(pages: [Page], file: SpillFile) throws {
            entries = []
            bytes = []
            self.pages = pages[...]
            self.file = file
            try load()
        }

        var isDone: Bool { index >= entries.count }

        /// Moves to the next line, reading the next page when one ends.
        func advance() throws {
            index += 1
            if index >= entries.count && !pages.isEmpty { try load() }
        }

        private func load() throws {
            guard let page = pages.popFirst(), let file else { return }
            entries = [LineEntry](repeating: .empty, count: page.count)
            bytes = [UInt8](repeating: 0, count: page.byteCount)
            try entries.withUnsafeMutableBytes { try file.read(at: page.at, into: $0) }
            let bytesAt = page.at + Int64(page.count * MemoryLayout<LineEntry>.stride)
            try bytes.withUnsafeMutableBytes { try file.read(at: bytesAt, into: $0) }
            index = 0
        }
    }

    fileprivate func cursors() throws -> [Cursor] {
        var result: [Cursor] = []
        if let file { for run in runs { result.append(try Cursor(pages: run, file: file)) } }
        result.append(Cursor(entries: entries, bytes: bytes))
        return result.filter { !$0.isDone }
    }
}

/// A walk through a ``LineSorter``'s lines in order: the runs merged (``MergeHeap``).
final class LineMerge {
    private let sorter: LineSorter
    private var heap: MergeHeap<LineSorter.Cursor>?

    fileprivate init(_ sorter: LineSorter) { self.sorter = sorter }

    /// Calls `body` with each line in order and the buffer its strings are in.
    /// - Throws: ``RevenueError`` `spill_failed` when a run cannot be read back; what `body` throws.
    func forEach(_ body: (LineEntry, UnsafeRawBufferPointer) throws -> Void) throws {
        while let cursor = try next() {
            try cursor.bytes.withUnsafeBytes { try body(cursor.entries[cursor.index], $0) }
        }
    }

    /// The cursor whose current line is next, or `nil` at the end.
    fileprivate func next() throws -> LineSorter.Cursor? {
        if heap == nil {
            heap = MergeHeap(try sorter.cursors()) { x, y in
                x.bytes.withUnsafeBytes { xb in
                    y.bytes.withUnsafeBytes { yb in LineEntry.precedes(x.entries[x.index], xb, y.entries[y.index], yb) }
                }
            }
        } else {
            try heap!.advanceTop { cursor in
                try cursor.advance()
                return !cursor.isDone
            }
        }
        return heap!.top
    }

    /// The next line as the caller's value, or `nil` at the end.
    func next<T>(_ make: (LineEntry, UnsafeRawBufferPointer) throws -> T) throws -> T? {
        guard let cursor = try next() else { return nil }
        return try cursor.bytes.withUnsafeBytes { try make(cursor.entries[cursor.index], $0) }
    }
}
