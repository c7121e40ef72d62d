/// The activations of the period and the month before, as the builder keeps them until the report
/// finishes: in file order, in blocks of records with their ids and VINs beside them.
///
/// Blocks stay in memory up to a byte budget; beyond it the oldest full blocks are written to a
/// temporary file and read back, one block at a time, when the report walks through them. So the
/// held months take at most the budget (plus one block) however large they are. The id of an
/// activation whose block is on disk is read again from the input when needed (see
/// ``ReportBuilder/idEquals(_:_:)``), as for any row not held.
final class HeldActivations {
    /// One block: its records, and the bytes their ``HeldActivation/idOffset`` point into (each
    /// activation's id directly followed by its 17 VIN bytes).
    private struct Block {
        var records: [HeldActivation]
        var bytes: [UInt8]
        let firstEntry: Int64
        /// Where the block is in the temporary file, once it was written out (then `records` and
        /// `bytes` are empty).
        var stored: (recordsAt: Int64, bytesAt: Int64, count: Int, byteCount: Int)?
    }

    /// The records per block (tests make it small).
    let blockRecords: Int
    /// The bytes of blocks that may stay in memory.
    let budget: Int
    private let folder: String
    private var file: SpillFile?
    /// Full blocks, oldest first, then the block being filled (`tail`).
    private var blocks: [Block] = []
    @exclusivity(unchecked) private var tailRecords: [HeldActivation] = []
    @exclusivity(unchecked) private var tailBytes: [UInt8] = []
    /// The bytes of the full blocks that are in memory.
    private var blockBytesInMemory = 0
    /// The first block still in memory (the ones before it are on disk).
    private var firstInMemory = 0
    /// How many activations are held, in memory or on disk.
    private(set) var count = 0
    /// How many blocks were written to the temporary file.
    private(set) var storedBlocks = 0

    init(budget: Int, folder: String, blockRecords: Int = 1 << 16) {
        self.budget = budget
        self.folder = folder
        self.blockRecords = blockRecords
        startTail()
    }

    /// An empty block to fill, its memory reserved for a block of ids of about 15 bytes.
    private func startTail() {
        tailRecords = []
        tailRecords.reserveCapacity(blockRecords)
        tailBytes = []
        tailBytes.reserveCapacity(blockRecords * 32)
    }

    /// The bytes held in memory.
    var bytesInMemory: Int {
        blockBytesInMemory + tailRecords.capacity * MemoryLayout<HeldActivation>.stride + tailBytes.capacity
    }

    private static func bytes(of block: Block) -> Int {
        block.records.capacity * MemoryLayout<HeldActivation>.stride + block.bytes.capacity
    }

    /// Adds an activation (its `idOffset` is set here) with its id and VIN.
    /// - Throws: ``RevenueError`` `spill_failed` when a block cannot be written out.
    @inline(__always)
    func append(_ activation: HeldActivation, id: UnsafeRawBufferPointer, vin: UnsafeRawBufferPointer) throws {
        var record = activation
        record.idOffset = UInt32(tailBytes.count)
        tailBytes.append(contentsOf: id)
        tailBytes.append(contentsOf: vin)
        tailRecords.append(record)
        count += 1
        if tailRecords.count == blockRecords { try closeTail() }
    }

    private func closeTail() throws {
        let block = Block(records: tailRecords, bytes: tailBytes, firstEntry: tailRecords[0].entry, stored: nil)
        blockBytesInMemory += HeldActivations.bytes(of: block)
        blocks.append(block)
        startTail()
        while blockBytesInMemory + tailRecords.capacity * MemoryLayout<HeldActivation>.stride + tailBytes.capacity > budget
                && firstInMemory < blocks.count {
            try store(firstInMemory)
            firstInMemory += 1
        }
    }

    /// Writes block `index` to the temporary file and lets go of its memory.
    private func store(_ index: Int) throws {
        if file == nil { file = try SpillFile(folder: folder) }
        let block = blocks[index]
        let recordsAt = try block.records.withUnsafeBytes { try file!.append($0) }
        let bytesAt = try block.bytes.withUnsafeBytes { try file!.append($0) }
        blockBytesInMemory -= HeldActivations.bytes(of: block)
        blocks[index] = Block(records: [], bytes: [], firstEntry: block.firstEntry,
                              stored: (recordsAt, bytesAt, block.records.count, block.bytes.count))
        storedBlocks += 1
    }

    /// The id and VIN of the activation whose table entry is `entry`, if it is held in memory
    /// (`nil` when it is not held, or its block is on disk).
    func idAndVIN(entry: Int64) -> (record: HeldActivation, bytes: UnsafeRawBufferPointer)? {
        if let first = tailRecords.first, entry >= first.entry {
            return HeldActivations.find(entry, tailRecords, tailBytes)
        }
        // The last block whose first entry is at most `entry`.
        var low = firstInMemory, high = blocks.count
        while low < high {
            let middle = (low + high) / 2
            if blocks[middle].firstEntry <= entry { low = middle + 1 } else { high = middle }
        }
        guard low > firstInMemory else { return nil }
        return HeldActivations.find(entry, blocks[low - 1].records, blocks[low - 1].bytes)
    }

    private static func find(_ entry: Int64, _ records: [HeldActivation], _ bytes: [UInt8]) -> (record: HeldActivation, bytes: UnsafeRawBufferPointer)? {
        var low = 0, high = records.count
        while low < high {
            let middle = (low + high) / 2
            if records[middle].entry < entry { low = middle + 1 } else { high = middle }
        }
        guard low < records.count, records[low].entry == entry else { return nil }
        let record = records[low]
        // The bytes live as long as the block: blocks are let go of only by a consuming walk,
        // after which nothing asks for an id.
        let base = bytes.withUnsafeBytes { $0.baseAddress! }
        return (record, UnsafeRawBufferPointer(start: base + Int(record.idOffset), count: Int(record.idLength) + 17))
    }

    /// Calls `body` with every activation in file order but those whose entries are in `skipping`
    /// (sorted), and a buffer that holds its id at ``HeldActivation/idOffset``, followed by its VIN.
    /// - Parameter consuming: let go of each block once walked (nothing is held afterwards).
    /// - Throws: ``RevenueError`` `spill_failed` when a block cannot be read back; what `body` throws.
    func forEach(consuming: Bool, skipping: [Int64] = [],
                 _ body: (HeldActivation, UnsafeRawBufferPointer) throws -> Void) throws {
        var skip = 0
        func walk(_ records: [HeldActivation], _ bytes: UnsafeRawBufferPointer) throws {
            for record in records {
                while skip < skipping.count && skipping[skip] < record.entry { skip += 1 }
                if skip < skipping.count && skipping[skip] == record.entry { continue }
                try body(record, bytes)
            }
        }
        var records: [HeldActivation] = []
        var bytes: [UInt8] = []
        for index in blocks.indices {
            if let stored = blocks[index].stored {
                records = [HeldActivation](repeating: HeldActivation(), count: stored.count)
                bytes = [UInt8](repeating: 0, count: stored.byteCount)
                try records.withUnsafeMutableBytes { try file!.read(at: stored.recordsAt, into: $0) }
                try bytes.withUnsafeMutableBytes { try file!.read(at: stored.bytesAt, into: $0) }
            } else {
                records = blocks[index].records
                bytes = blocks[index].bytes
                if consuming {
                    blockBytesInMemory -= HeldActivations.bytes(of: blocks[index])
                    blocks[index].records = []
                    blocks[index].bytes = []
                }
            }
            try bytes.withUnsafeBytes { try walk(records, $0) }
            records = []
            bytes = []
        }
        let last = tailRecords, lastBytes = tailBytes
        if consuming {
            tailRecords = []
            tailBytes = []
            firstInMemory = blocks.count
        }
        try lastBytes.withUnsafeBytes { try walk(last, $0) }
        if consuming {
            blocks.removeAll()
            firstInMemory = 0
            file = nil
        }
    }
}

extension HeldActivation {
    /// An empty record (a buffer's contents before a block is read into it).
    init() {
        self.init(time: 0, entry: 0, gross: 0, idOffset: 0, dealer: -1, saleKind: 0, idLength: 0, inPeriod: false)
    }
}
