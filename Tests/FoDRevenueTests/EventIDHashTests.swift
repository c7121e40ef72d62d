@testable import FoDRevenue
import Testing

/// The id hash at small scale, as SMHasher tests a hash: the shapes event ids take in real exports
/// give no 64-bit collision, and every input bit reaches every output bit.
@Suite("Event id hash")
struct EventIDHashTests {
    static func hash(_ id: [UInt8]) -> UInt64 { id.withUnsafeBytes { EventIDHash.sipHash($0) } }

    /// Fails when two different ids share a 64-bit hash.
    static func expectNoCollision(_ ids: [[UInt8]], _ shape: String) {
        var pairs = ids.map { (hash($0), $0) }
        pairs.sort { $0.0 < $1.0 }
        var collisions = 0
        for index in pairs.indices.dropFirst() where pairs[index].0 == pairs[index - 1].0 && pairs[index].1 != pairs[index - 1].1 {
            collisions += 1
        }
        #expect(collisions == 0, "\(collisions) collisions among \(ids.count) ids of shape \(shape)")
    }

    static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZabcdefghijklmnopqrstuvwxyz-_".utf8)

    @Test("a single changed byte at every position of ids of 1 to 64 bytes never collides")
    func singleByteChanges() {
        var generator = SplitMix64(seed: 11)
        var ids: [[UInt8]] = []
        for length in 1...64 {
            let base = (0..<length).map { _ in Self.alphabet[Int(generator.next() % UInt64(Self.alphabet.count))] }
            ids.append(base)
            for position in 0..<length {
                for replacement in Self.alphabet where replacement != base[position] {
                    var changed = base
                    changed[position] = replacement
                    ids.append(changed)
                }
            }
        }
        #expect(ids.count > 120_000)
        Self.expectNoCollision(ids, "single-byte changes")
    }

    @Test("sequential ids with long shared prefixes, ids that differ only at the end, UUIDs and ULIDs do not collide")
    func realShapes() {
        var ids: [[UInt8]] = []
        // The shape of the file that broke the old hash: evt-008000040 and its neighbours.
        for number in 7_900_000..<8_600_000 { ids.append(Array("evt-\(String(number).leftPadded(9))".utf8)) }
        // Shared prefixes of 8 to 40 characters, numeric suffixes.
        for prefixLength in [8, 16, 24, 33, 40] {
            let prefix = String(repeating: "x", count: prefixLength - 5) + "-ord-"
            for number in 0..<40_000 { ids.append(Array((prefix + String(number)).utf8)) }
        }
        var generator = SplitMix64(seed: 5)
        for _ in 0..<100_000 { ids.append(Array(Self.uuid(version: 4, &generator).utf8)) }
        for index in 0..<100_000 { ids.append(Array(Self.uuid(version: 7, &generator, millis: 1_780_000_000_000 + UInt64(index / 16)).utf8)) }
        for index in 0..<100_000 { ids.append(Array(Self.ulid(millis: 1_780_000_000_000 + UInt64(index / 8), &generator).utf8)) }
        #expect(Set(ids).count == ids.count)
        #expect(ids.count >= 1_100_000)
        Self.expectNoCollision(ids, "real shapes")
    }

    @Test("avalanche: flipping any input bit flips each output bit about half the time")
    func avalanche() {
        var generator = SplitMix64(seed: 3)
        for length in [1, 2, 8, 13, 36, 64] {
            // Every input of one byte; 1,000 random ones of the longer lengths.
            let inputs: [[UInt8]] = length == 1 ? (0...255).map { [UInt8($0)] }
                : (0..<1_000).map { _ in (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) } }
            // Every bit of the first and last eight bytes, and every seventh bit between.
            let bits = (0..<(length * 8)).filter { $0 < 64 || $0 >= length * 8 - 64 || $0 % 7 == 0 }
            var flips = [[Int]](repeating: [Int](repeating: 0, count: 64), count: bits.count)
            for base in inputs {
                let h = Self.hash(base)
                for (row, bit) in bits.enumerated() {
                    var changed = base
                    changed[bit / 8] ^= 1 << UInt8(bit % 8)
                    var difference = h ^ Self.hash(changed)
                    while difference != 0 {
                        flips[row][difference.trailingZeroBitCount] += 1
                        difference &= difference - 1
                    }
                }
            }
            // Six standard deviations of a fair coin over this many inputs (for one byte: 128 pairs).
            let n = Double(length == 1 ? 128 : inputs.count)
            let bound = 6 * 0.5 / n.squareRoot()
            let worst = flips.joined().map { abs(Double($0) / Double(inputs.count) - 0.5) }.max() ?? 1
            #expect(worst < bound, "length \(length): an output bit flips with bias \(worst), bound \(bound)")
        }
    }

    static func hex(_ value: UInt64, _ digits: Int) -> String { String(String(value, radix: 16).leftPadded(16).suffix(digits)) }

    static func uuid(version: Int, _ generator: inout SplitMix64, millis: UInt64 = 0) -> String {
        let a = generator.next(), b = generator.next()
        let high = version == 7 ? (millis << 16) | (7 << 12) | (a & 0xFFF) : (a & ~0xF000) | (4 << 12)
        let low = (b & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        let text = hex(high, 16) + hex(low, 16)
        let c = Array(text)
        return String(c[0..<8]) + "-" + String(c[8..<12]) + "-" + String(c[12..<16]) + "-" + String(c[16..<20]) + "-" + String(c[20..<32])
    }

    static func ulid(millis: UInt64, _ generator: inout SplitMix64) -> String {
        let crockford = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
        var text = ""
        var time = millis
        for _ in 0..<10 { text = String(crockford[Int(time % 32)]) + text; time /= 32 }
        for _ in 0..<16 { text.append(crockford[Int(generator.next() % 32)]) }
        return text
    }
}

extension String {
    /// The string with leading zeros up to `width` characters.
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
