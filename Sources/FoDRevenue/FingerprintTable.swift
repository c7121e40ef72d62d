import CFoDSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Every accepted event id of a file, as where to find the id again, tagged with what the builder
/// later needs to know about an event it did not keep: whether it is an activation, and whether
/// it is dated after the period.
///
/// One 8-byte slot per event in an open-addressing table kept at most 70 % full: 22 bits of the
/// id's hash, the byte offset of the row that holds the id (40 bits: inputs up to 1 TiB), and the
/// two tag bits. The hash only proposes: the table calls back with the offset of every entry whose
/// hash bits match, and the caller compares the real id bytes there (re-read from the input).
/// So a verdict — duplicate or not, which row a refund refers to — is decided by the ids, never by
/// a hash; a hash collision only costs one more comparison. With a random 64-bit hash a proposal
/// that is not a real match is rare (expected from the 22 stored bits: about one per 4 million probes).
///
/// Inserts are random accesses into a table of 100+ MB for large files, so the table lives in
/// 2 MiB-aligned memory marked for transparent huge pages (fewer TLB misses), and callers
/// ``prefetch(_:)`` the slot as soon as they know an id's hash (measured in `docs/benchmarks.md`).
///
/// The table never grows past its byte budget: once it is full at the budget, ``insert(_:_:offset:isSameID:)``
/// still finds every id it holds but answers ``Insertion/full`` for a new one, and the caller keeps
/// that id elsewhere (``IDPartitions``, on disk).
final class FingerprintTable {
    /// What ``insert(_:_:offset:isSameID:)`` did.
    enum Insertion: Equatable {
        /// The id was new and is now held.
        case inserted
        /// The id is held already, for the row at this offset.
        case existing(Int64)
        /// The id is not held, and the table is at its budget.
        case full
    }

    /// What is stored with an id.
    struct Tag: Equatable {
        var activation: Bool
        var afterPeriod: Bool
    }

    /// The largest row offset a slot holds.
    static let maxOffset: Int64 = (1 << 40) - 2

    /// One open-addressing table of any size. A slot cannot give its hash's low bits back, so a
    /// full table is not rehashed: a new level of twice the size (or what the budget leaves) takes
    /// the new ids, and lookups probe every level (sized from the input's size, a file needs one
    /// level, rarely two).
    private struct Level {
        let slots: UnsafeMutablePointer<UInt64>
        let capacity: Int
        var count = 0

        init(capacity: Int) {
            self.capacity = capacity
            slots = Level.allocate(capacity)
        }

        var bytes: Int { capacity * MemoryLayout<UInt64>.stride }

        private static func allocate(_ count: Int) -> UnsafeMutablePointer<UInt64> {
            let bytes = count * MemoryLayout<UInt64>.stride
            var raw: UnsafeMutableRawPointer?
            let alignment = bytes >= 2 << 20 ? 2 << 20 : 64
            guard posix_memalign(&raw, alignment, bytes) == 0, let raw else {
                fatalError("out of memory for \(count) event fingerprints")
            }
            #if os(Linux)
            if bytes >= 2 << 20 { _ = madvise(raw, bytes, MADV_HUGEPAGE) }
            #endif
            memset(raw, 0, bytes)
            return raw.bindMemory(to: UInt64.self, capacity: count)
        }

        /// The probe start, from the hash's low 32 bits (independent of the stored high bits)
        /// mapped onto the capacity by a multiply (no power of two needed).
        @inline(__always)
        func start(_ hash: UInt64) -> Int { Int(((hash & 0xFFFF_FFFF) &* UInt64(capacity)) >> 32) }

        var isFull: Bool { count * 10 >= capacity * 7 }
    }

    @exclusivity(unchecked) private var levels: [Level]
    /// The most bytes the slots may take.
    let budget: Int
    /// Whether the table is full at its budget: new ids are no longer taken.
    private(set) var isAtBudget = false
    /// The number of ids held.
    var count: Int { levels.reduce(0) { $0 + $1.count } }
    /// How many levels the table has grown to.
    var levelCount: Int { levels.count }
    /// The bytes the slots take.
    var bytes: Int { levels.reduce(0) { $0 + $1.bytes } }

    /// The fewest slots a level has.
    static let minimumCapacity = 1 << 12

    /// Creates a table.
    /// - Parameters:
    ///   - capacity: slots of the first level (a size hint; at most what the budget allows).
    ///   - budget: the most bytes all levels together may take (at least one minimum level).
    init(capacity requested: Int = 1 << 16, budget: Int = Int.max) {
        let slotBytes = MemoryLayout<UInt64>.stride
        self.budget = max(budget, FingerprintTable.minimumCapacity * slotBytes)
        let capacity = min(max(requested, FingerprintTable.minimumCapacity), self.budget / slotBytes)
        levels = [Level(capacity: capacity)]
    }

    deinit { for level in levels { free(level.slots) } }

    /// Lets go of the slots once the last lookup is done: afterwards the table holds nothing
    /// and takes nothing (every insert answers ``Insertion/full``).
    func release() {
        for level in levels { free(level.slots) }
        levels = []
        isAtBudget = true
    }

    // Slot layout: hash bits 63…42 | (offset + 1) in bits 41…2 | afterPeriod bit 1 | activation bit 0.
    // Never zero (the empty slot), as the stored offset is at least 1.

    @inline(__always)
    private static func hashBits(_ hash: UInt64) -> UInt64 { hash & ~((1 << 42) - 1) }

    @inline(__always)
    private static func entry(_ hash: UInt64, _ offset: Int64, _ tag: Tag) -> UInt64 {
        hashBits(hash) | (UInt64(offset + 1) << 2) | (tag.afterPeriod ? 2 : 0) | (tag.activation ? 1 : 0)
    }

    @inline(__always)
    private static func offset(_ slot: UInt64) -> Int64 { Int64((slot >> 2) & ((1 << 40) - 1)) - 1 }

    @inline(__always)
    private static func tag(_ slot: UInt64) -> Tag { Tag(activation: slot & 1 == 1, afterPeriod: slot & 2 == 2) }

    /// Starts loading the slots a later ``insert(_:_:offset:isSameID:)`` or ``lookup(_:isSameID:)`` reads.
    @inline(__always)
    func prefetch(_ hash: UInt64) {
        for level in levels { fod_prefetch(level.slots + level.start(hash)) }
    }

    /// Inserts the id of the row at `offset`, unless an entry for the same id is present.
    /// - Parameter isSameID: called with the offset of each entry whose hash bits match; returns
    ///   whether the id there is the id being inserted.
    /// - Returns: whether the id was inserted, was held already (with the earlier row's offset),
    ///   or is new while the table is at its budget.
    /// - Throws: what `isSameID` throws; ``RevenueError`` `overflow` for an offset past 1 TiB.
    @inline(__always)
    func insert(_ hash: UInt64, _ tag: Tag, offset: Int64, isSameID: (Int64) throws -> Bool) throws -> Insertion {
        guard offset >= 0 && offset <= FingerprintTable.maxOffset else {
            throw RevenueError(.overflow, "the events input is larger than 1 TiB")
        }
        let bits = FingerprintTable.hashBits(hash)
        let last = levels.count - 1
        guard last >= 0 else { return .full }
        for number in 0..<last {
            if let existing = try FingerprintTable.find(levels[number], hash, bits, isSameID).existing { return .existing(existing) }
        }
        let found = try FingerprintTable.find(levels[last], hash, bits, isSameID)
        if let existing = found.existing { return .existing(existing) }
        if isAtBudget { return .full }
        levels[last].slots[found.slot] = FingerprintTable.entry(hash, offset, tag)
        levels[last].count += 1
        if levels[last].isFull { grow() }
        return .inserted
    }

    /// Adds a level twice the size of the last, or what is left of the budget; at the budget, stops taking ids.
    private func grow() {
        let left = (budget - bytes) / MemoryLayout<UInt64>.stride
        let capacity = min(levels[levels.count - 1].capacity * 2, left)
        if capacity < FingerprintTable.minimumCapacity {
            isAtBudget = true
        } else {
            levels.append(Level(capacity: capacity))
        }
    }

    /// The entry for an id: its tag and the offset of its row, or `nil` when the id is absent.
    /// - Parameter isSameID: as for ``insert(_:_:offset:isSameID:)``.
    func lookup(_ hash: UInt64, isSameID: (Int64) throws -> Bool) throws -> (tag: Tag, offset: Int64)? {
        let bits = FingerprintTable.hashBits(hash)
        for level in levels {
            let found = try FingerprintTable.find(level, hash, bits, isSameID)
            if let existing = found.existing { return (FingerprintTable.tag(level.slots[found.slot]), existing) }
        }
        return nil
    }

    /// Probes one level: the offset of the entry holding the id and its slot, or `nil` and the first empty slot.
    @inline(__always)
    private static func find(_ level: Level, _ hash: UInt64, _ bits: UInt64,
                             _ isSameID: (Int64) throws -> Bool) throws -> (existing: Int64?, slot: Int) {
        var index = level.start(hash)
        while true {
            let slot = level.slots[index]
            if slot == 0 { return (nil, index) }
            if hashBits(slot) == bits {
                let existing = offset(slot)
                if try isSameID(existing) { return (existing, index) }
            }
            index += 1
            if index == level.capacity { index = 0 }
        }
    }
}
