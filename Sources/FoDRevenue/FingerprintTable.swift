import CFoDSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A set of 64-bit fingerprints of event ids, each tagged with what the builder later needs to
/// know about an event it did not keep: whether it is an activation, and whether it is dated
/// after the period.
///
/// This is what lets one streaming pass detect duplicate ids and tell a late refund from a refund
/// of an activation that is not in the file, without holding the ids themselves: 8 bytes per
/// event in an open-addressing table kept at most 70 % full. Two different ids share a fingerprint
/// with probability about n²/2⁶⁵ (3 in a million for 10 million events).
///
/// Inserts are random accesses into a table of 100+ MB for large files, so the table lives in
/// 2 MiB-aligned memory marked for transparent huge pages (fewer TLB misses), and callers
/// ``prefetch(_:)`` the slot as soon as they know an id's hash (measured in `docs/benchmarks.md`).
final class FingerprintTable {
    /// What is stored with a fingerprint.
    struct Tag: Equatable {
        var activation: Bool
        var afterPeriod: Bool
    }

    @exclusivity(unchecked) private var slots: UnsafeMutablePointer<UInt64>
    @exclusivity(unchecked) private var capacity: Int
    @exclusivity(unchecked) private var mask: Int
    @exclusivity(unchecked) private(set) var count = 0

    init(capacity requested: Int = 1 << 16) {
        var size = 1 << 12
        while size < requested { size <<= 1 }
        capacity = size
        mask = size - 1
        slots = FingerprintTable.allocate(size)
    }

    deinit { free(slots) }

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

    /// The stored form: the fingerprint with its two lowest bits replaced by the tag and bit 2
    /// set, so that it is never zero (the empty slot).
    @inline(__always)
    private static func entry(_ fingerprint: UInt64, _ tag: Tag) -> UInt64 {
        (fingerprint & ~7) | 4 | (tag.activation ? 1 : 0) | (tag.afterPeriod ? 2 : 0)
    }

    @inline(__always)
    private static func key(_ value: UInt64) -> UInt64 { value & ~3 }

    @inline(__always)
    private func start(_ fingerprint: UInt64) -> Int { Int(truncatingIfNeeded: fingerprint >> 7) & mask }

    /// Starts loading the slot a later ``insert(_:_:)`` or ``lookup(_:)`` of `fingerprint` reads.
    @inline(__always)
    func prefetch(_ fingerprint: UInt64) {
        fod_prefetch(slots + start(fingerprint))
    }

    /// Inserts a fingerprint; returns `false` (and changes nothing) when it is already present.
    @inline(__always)
    func insert(_ fingerprint: UInt64, _ tag: Tag) -> Bool {
        if count * 10 >= capacity * 7 { grow() }
        let value = FingerprintTable.entry(fingerprint, tag)
        var index = start(fingerprint)
        while true {
            let slot = slots[index]
            if slot == 0 {
                slots[index] = value
                count += 1
                return true
            }
            if FingerprintTable.key(slot) == FingerprintTable.key(value) { return false }
            index = (index + 1) & mask
        }
    }

    /// The tag stored with a fingerprint, or `nil`.
    func lookup(_ fingerprint: UInt64) -> Tag? {
        let key = FingerprintTable.key(FingerprintTable.entry(fingerprint, Tag(activation: false, afterPeriod: false)))
        var index = start(fingerprint)
        while true {
            let slot = slots[index]
            if slot == 0 { return nil }
            if FingerprintTable.key(slot) == key { return Tag(activation: slot & 1 == 1, afterPeriod: slot & 2 == 2) }
            index = (index + 1) & mask
        }
    }

    private func grow() {
        let old = slots, oldCapacity = capacity
        capacity *= 2
        mask = capacity - 1
        slots = FingerprintTable.allocate(capacity)
        for offset in 0..<oldCapacity where old[offset] != 0 {
            // The probe start ignores the low seven bits, where the tag lives.
            var index = Int(truncatingIfNeeded: old[offset] >> 7) & mask
            while slots[index] != 0 { index = (index + 1) & mask }
            slots[index] = old[offset]
        }
        free(old)
    }
}
