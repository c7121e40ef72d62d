/// The rows rejected as duplicates, kept until the report finishes so that they reach
/// `rejects.csv` in line order with the other rejects decided by ids.
///
/// A duplicate is a line and the table entry of the earlier row with the same id (whose id is
/// the duplicate's own). They come in runs, each sorted by line: the rows found while reading,
/// and one run per spilled partition. A run keeps its last block in memory and writes full
/// blocks to a temporary file, so a file of nothing but duplicates stays within the memory limit.
final class DuplicateRuns {
    struct Duplicate {
        var line: Int64
        var earlier: Int64
    }

    /// Records per block: 16 KiB.
    static let blockRecords = 1024

    private struct Run {
        var blocks: [Int64] = []
        var tail: [Duplicate] = []
    }

    private var runs: [Run] = [Run()]
    private let folder: String
    private var file: SpillFile?
    /// How many duplicates there are.
    private(set) var count: Int64 = 0

    init(folder: String) { self.folder = folder }

    /// Ends the current run: later duplicates start a new one.
    func startRun() {
        if !runs[runs.count - 1].blocks.isEmpty || !runs[runs.count - 1].tail.isEmpty { runs.append(Run()) }
    }

    /// Adds a duplicate; its line is after every line of the current run.
    func append(_ duplicate: Duplicate) throws {
        let last = runs.count - 1
        runs[last].tail.append(duplicate)
        count += 1
        if runs[last].tail.count == DuplicateRuns.blockRecords {
            if file == nil { file = try SpillFile(folder: folder) }
            let start = try runs[last].tail.withUnsafeBytes { try file!.append($0) }
            runs[last].blocks.append(start)
            runs[last].tail.removeAll(keepingCapacity: true)
        }
    }

    /// Every duplicate in line order (the runs merged).
    func forEachInLineOrder(_ body: (Duplicate) throws -> Void) throws {
        var heap = MergeHeap(try runs.map { try Cursor(run: $0, file: file) }.filter { $0.current != nil }) {
            $0.current!.line < $1.current!.line
        }
        while let top = heap.top?.current {
            try body(top)
            try heap.advanceTop { cursor in
                try cursor.advance()
                return cursor.current != nil
            }
        }
    }

    /// Reads one run a block at a time.
    private struct Cursor {
        let run: Run
        let file: SpillFile?
        var block: [Duplicate] = []
        var blockNumber = 0
        var position = 0
        var current: Duplicate?

        init(run: Run, file: SpillFile?) throws {
            self.run = run
            self.file = file
            try load()
        }

        private mutating func load() throws {
            position = 0
            if blockNumber < run.blocks.count {
                block = [Duplicate](repeating: Duplicate(line: 0, earlier: 0), count: DuplicateRuns.blockRecords)
                try block.withUnsafeMutableBytes { try file!.read(at: run.blocks[blockNumber], into: $0) }
            } else if blockNumber == run.blocks.count {
                block = run.tail
            } else {
                block = []
            }
            blockNumber += 1
            current = block.first
        }

        mutating func advance() throws {
            position += 1
            if position < block.count {
                current = block[position]
            } else if blockNumber <= run.blocks.count {
                try load()
            } else {
                current = nil
            }
        }
    }
}
