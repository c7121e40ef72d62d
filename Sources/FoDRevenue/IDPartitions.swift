/// The ids first seen after the ``FingerprintTable`` reached its budget: written to a temporary
/// file in partitions by hash, in file order, and checked for duplicates partition by partition
/// when the report finishes (every id is in one partition only, so a partition is checked alone).
///
/// One record is 24 bytes: the id's full 64-bit hash, where the id can be read again (its row's
/// offset), the row's line and what the builder needs to know of it. Each partition keeps a
/// buffer of records in memory and writes it out as a block when full.
final class IDPartitions {
    /// A spilled id.
    struct Record {
        var hash: UInt64
        var entry: Int64
        /// The line in the low 56 bits; flags above.
        var lineAndFlags: UInt64

        static let activationFlag: UInt64 = 1 << 63
        static let afterPeriodFlag: UInt64 = 1 << 62
        static let heldFlag: UInt64 = 1 << 61
        static let lineMask: UInt64 = (1 << 56) - 1

        init(hash: UInt64, entry: Int64, line: Int64, tag: FingerprintTable.Tag, held: Bool) {
            self.hash = hash
            self.entry = entry
            lineAndFlags = UInt64(line) & Record.lineMask
                | (tag.activation ? Record.activationFlag : 0) | (tag.afterPeriod ? Record.afterPeriodFlag : 0) | (held ? Record.heldFlag : 0)
        }

        var line: Int64 { Int64(lineAndFlags & Record.lineMask) }
        var tag: FingerprintTable.Tag {
            FingerprintTable.Tag(activation: lineAndFlags & Record.activationFlag != 0, afterPeriod: lineAndFlags & Record.afterPeriodFlag != 0)
        }
        /// Whether the builder holds the row (an activation or refund of the two months).
        var isHeld: Bool { lineAndFlags & Record.heldFlag != 0 }
    }

    /// Records per block: 64 KiB.
    static let blockRecords = 2730
    let count: Int
    private let file: SpillFile
    @exclusivity(unchecked) private var buffers: [[Record]]
    /// Where each partition's full blocks start in the file, in order.
    private var blocks: [[Int64]]
    /// The records spilled.
    private(set) var records: Int64 = 0

    /// Creates the partitions.
    /// - Parameter count: how many (a power of two, at least 1).
    init(count: Int, folder: String) throws {
        precondition(count > 0 && count & (count - 1) == 0)
        self.count = count
        file = try SpillFile(folder: folder)
        buffers = Array(repeating: [], count: count)
        blocks = Array(repeating: [], count: count)
    }

    /// The partition of a hash: bits 32 and up (the table's probe start uses the low 32, its
    /// stored bits the top 22; with 2^10 partitions or fewer the three are independent).
    @inline(__always)
    func partition(_ hash: UInt64) -> Int { Int((hash >> 32) & (UInt64(count) - 1)) }

    /// Adds a record to its partition.
    @inline(__always)
    func append(_ record: Record) throws {
        let number = partition(record.hash)
        if buffers[number].isEmpty { buffers[number].reserveCapacity(IDPartitions.blockRecords) }
        buffers[number].append(record)
        records += 1
        if buffers[number].count == IDPartitions.blockRecords {
            let start = try buffers[number].withUnsafeBytes { try file.append($0) }
            blocks[number].append(start)
            buffers[number].removeAll(keepingCapacity: true)
        }
    }

    /// How many records a partition holds.
    func size(of number: Int) -> Int { blocks[number].count * IDPartitions.blockRecords + buffers[number].count }

    /// A partition's records that `include` takes, in the order they were added (file order).
    func records(of number: Int, reserving: Int, where include: (Record) -> Bool) throws -> [Record] {
        var result: [Record] = []
        result.reserveCapacity(reserving)
        var block = [Record](repeating: Record(hash: 0, entry: 0, line: 0, tag: .init(activation: false, afterPeriod: false), held: false),
                             count: IDPartitions.blockRecords)
        for start in blocks[number] {
            try block.withUnsafeMutableBytes { try file.read(at: start, into: $0) }
            for record in block where include(record) { result.append(record) }
        }
        for record in buffers[number] where include(record) { result.append(record) }
        return result
    }

    /// Lets go of a partition's buffer once it was read.
    func release(_ number: Int) { buffers[number] = [] }
}
