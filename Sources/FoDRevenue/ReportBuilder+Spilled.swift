extension ReportBuilder {
    /// What a refund's `refers_to` names: the tag and table entry of that id's row, or `nil`.
    typealias RefundTarget = (tag: FingerprintTable.Tag, offset: Int64)

    /// The id of a table entry: from memory for a held activation there, else read again from
    /// the input (or the archive).
    func eventID(entry: Int64) throws -> [UInt8] {
        if let (activation, bytes) = held.idAndVIN(entry: entry) {
            return Array(bytes[0..<Int(activation.idLength)])
        }
        if let ids {
            idRereads += 1
            return try ids.eventID(atOffset: entry)
        }
        let start = Int(entry)
        return Array(idArchive[(start + 1)..<(start + 1 + Int(idArchive[start]))])
    }

    /// Decides what waited for the ids: checks the spilled ids for duplicates partition by
    /// partition (dropping held rows that turn out to be duplicates), then finds each held
    /// refund's `refers_to` — in the table, else in its partition — by the ids' bytes.
    /// - Returns: each held refund's target, by the refund's index after the duplicates are
    ///   dropped, and the entries of the held activations found to be duplicates (sorted), which
    ///   the report then skips.
    func resolveIDs() throws -> (targets: [RefundTarget?], droppedActivations: [Int64]) {
        var targets = try refunds.map { refund in
            try refersTo(refund) { try fingerprints.lookup(refund.refersToHash, isSameID: $0) }
        }
        guard let partitions else { return (targets, []) }
        // Refunds whose refers_to the table does not hold, by the partition of its hash.
        var pending = [[Int32]](repeating: [], count: partitions.count)
        for (index, target) in targets.enumerated() where target == nil {
            pending[partitions.partition(refunds[index].refersToHash)].append(Int32(index))
        }
        var dropped: [Int64] = []
        let partitionBudget = spillPartitionBudget
        for number in 0..<partitions.count {
            let size = partitions.size(of: number)
            // A partition larger than planned (more rows than expected) is checked in passes, by
            // more bits of the hash, so that each pass stays within the budget.
            var passes = 1
            while passes < 1 << 12 && size * ReportBuilder.spilledRecordBytes / passes > partitionBudget { passes <<= 1 }
            for pass in 0..<passes {
                let inPass = { (hash: UInt64) in passes == 1 || Int((hash >> 44) & UInt64(passes - 1)) == pass }
                duplicates.startRun()
                let records = try partitions.records(of: number, reserving: size / passes + 64) { inPass($0.hash) }
                var table = SpilledIDTable(count: records.count)
                for (index, record) in records.enumerated() {
                    // The id is read again only when an earlier record has the same 64-bit hash.
                    var id: [UInt8]?
                    let earlier = try table.find(record.hash, in: records) { other in
                        if id == nil { id = try eventID(entry: record.entry) }
                        return try id!.withUnsafeBytes { try idEquals(other.entry, $0) }
                    }
                    if let earlier {
                        try duplicates.append(DuplicateRuns.Duplicate(line: record.line, earlier: records[earlier].entry))
                        if record.isHeld { dropped.append(record.entry) } else { counts.outsidePeriod -= 1 }
                    } else {
                        table.insert(record.hash, index: index)
                    }
                }
                for index in pending[number] where inPass(refunds[Int(index)].refersToHash) {
                    let refund = refunds[Int(index)]
                    let found: Int? = try refersTo(refund) { isSameID in
                        try table.find(refund.refersToHash, in: records) { try isSameID($0.entry) }
                    }
                    if let found { targets[Int(index)] = (records[found].tag, records[found].entry) }
                }
            }
            partitions.release(number)
        }
        guard !dropped.isEmpty else { return (targets, []) }
        dropped.sort()
        func isDropped(_ entry: Int64) -> Bool {
            var low = 0, high = dropped.count
            while low < high {
                let middle = (low + high) / 2
                if dropped[middle] < entry { low = middle + 1 } else { high = middle }
            }
            return low < dropped.count && dropped[low] == entry
        }
        let kept = zip(refunds, targets).filter { !isDropped($0.0.entry) }.map(\.1)
        refunds.keep { !isDropped($0.entry) }
        // Refunds' entries are in the list too; skipping them among activations changes nothing.
        return (kept, dropped)
    }

    /// Runs `lookup` with a comparison of an entry's id against the refund's `refers_to` bytes.
    private func refersTo<T>(_ refund: HeldRefund, _ lookup: ((Int64) throws -> Bool) throws -> T?) throws -> T? {
        let target = arena[refund.idOffset + UInt32(refund.idLength), Int(refund.refersToLength)]
        return try lookup { try self.idEquals($0, target) }
    }
}

/// An open-addressing table over one partition's spilled records, by their full 64-bit hash.
struct SpilledIDTable {
    private var slots: [Int32]
    private let mask: Int

    init(count: Int) {
        var capacity = 16
        while capacity < count * 2 { capacity <<= 1 }
        slots = [Int32](repeating: -1, count: capacity)
        mask = capacity - 1
    }

    @inline(__always)
    private func start(_ hash: UInt64) -> Int { Int(truncatingIfNeeded: hash ^ (hash >> 29)) & mask }

    /// The index of the first record with this hash that `matches` accepts.
    func find(_ hash: UInt64, in records: [IDPartitions.Record], where matches: (IDPartitions.Record) throws -> Bool) throws -> Int? {
        var slot = start(hash)
        while slots[slot] >= 0 {
            let record = records[Int(slots[slot])]
            if record.hash == hash, try matches(record) { return Int(slots[slot]) }
            slot = (slot + 1) & mask
        }
        return nil
    }

    mutating func insert(_ hash: UInt64, index: Int) {
        var slot = start(hash)
        while slots[slot] >= 0 { slot = (slot + 1) & mask }
        slots[slot] = Int32(index)
    }
}
