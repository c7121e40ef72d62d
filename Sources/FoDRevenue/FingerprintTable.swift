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
final class FingerprintTable {
    /// What is stored with an id.
    struct Tag: Equatable {
        var activation: Bool
        var afterPeriod: Bool
    }

    /// The largest row offset a slot holds.
    static let maxOffset: Int64 = (1 << 40) - 2

    /// One open-addressing table. A slot cannot give its hash's low bits back, so a full table is
    /// not rehashed: a new level of twice the size takes the new ids, and lookups probe every
    /// level (sized from the input's size, a file needs one level, rarely two).
    private struct Level {
        let slots: UnsafeMutablePointer<UInt64>
        let capacity: Int
        let mask: Int
        var count = 0

        init(capacity: Int) {
            self.capacity = capacity
            mask = capacity - 1
            slots = Level.allocate(capacity)
        }

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

        /// The probe start: the hash's low bits, independent of the stored high bits.
        @inline(__always)
        func start(_ hash: UInt64) -> Int { Int(truncatingIfNeeded: hash) & mask }

        var isFull: Bool { count * 10 >= capacity * 7 }
    }

    @exclusivity(unchecked) private var levels: [Level]
    /// The number of ids held.
    var count: Int { levels.reduce(0) { $0 + $1.count } }
    /// How many levels the table has grown to.
    var levelCount: Int { levels.count }

    init(capacity requested: Int = 1 << 16) {
        var size = 1 << 12
        while size < requested { size <<= 1 }
        levels = [Level(capacity: size)]
    }

    deinit { for level in levels { free(level.slots) } }

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
    /// - Returns: `nil` when inserted, or the offset of the row that already holds the id.
    /// - Throws: what `isSameID` throws; ``RevenueError`` `overflow` for an offset past 1 TiB.
    @inline(__always)
    func insert(_ hash: UInt64, _ tag: Tag, offset: Int64, isSameID: (Int64) throws -> Bool) throws -> Int64? {
        guard offset >= 0 && offset <= FingerprintTable.maxOffset else {
            throw RevenueError(.overflow, "the events input is larger than 1 TiB")
        }
        let bits = FingerprintTable.hashBits(hash)
        let last = levels.count - 1
        for number in 0..<last {
            if let existing = try FingerprintTable.find(levels[number], hash, bits, isSameID).existing { return existing }
        }
        let found = try FingerprintTable.find(levels[last], hash, bits, isSameID)
        if let existing = found.existing { return existing }
        levels[last].slots[found.slot] = FingerprintTable.entry(hash, offset, tag)
        levels[last].count += 1
        if levels[last].isFull { levels.append(Level(capacity: levels[last].capacity * 2)) }
        return nil
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
            index = (index + 1) & level.mask
        }
    }
}
