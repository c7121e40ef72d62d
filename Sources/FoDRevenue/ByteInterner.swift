/// Maps short byte strings (dealer ids, feature codes, currencies …) to dense indexes, storing a
/// value computed once per distinct string — so each distinct value is validated once, not once
/// per row — without creating a `String` for a row whose value was seen before.
struct ByteInterner<Value> {
    private var table: [Int32]
    private var mask: Int
    private var hashes: [UInt64] = []
    private var keyOffsets: [Int] = []
    private var keyBytes: [UInt8] = []
    /// The value stored for each index.
    private(set) var values: [Value] = []

    init() {
        table = [Int32](repeating: -1, count: 64)
        mask = 63
    }

    /// The number of distinct keys.
    var count: Int { values.count }

    /// The index of `key`, adding it with `make(key)` when it is new.
    @inline(__always)
    mutating func index(of key: UnsafeRawBufferPointer, make: (UnsafeRawBufferPointer) -> Value) -> Int32 {
        let hash = EventIDHash.sipHash(key)
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let entry = table[slot]
            if entry < 0 { break }
            if hashes[Int(entry)] == hash && equals(Int(entry), key) { return entry }
            slot = (slot + 1) & mask
        }
        let index = Int32(values.count)
        hashes.append(hash)
        keyOffsets.append(keyBytes.count)
        keyBytes.append(contentsOf: key)
        values.append(make(key))
        table[slot] = index
        if values.count * 2 > table.count { grow() }
        return index
    }

    /// The key bytes of an index, as a string.
    func key(_ index: Int32) -> String {
        let start = keyOffsets[Int(index)]
        let end = Int(index) + 1 < keyOffsets.count ? keyOffsets[Int(index) + 1] : keyBytes.count
        return String(decoding: keyBytes[start..<end], as: UTF8.self)
    }

    private func equals(_ index: Int, _ key: UnsafeRawBufferPointer) -> Bool {
        let start = keyOffsets[index]
        let end = index + 1 < keyOffsets.count ? keyOffsets[index + 1] : keyBytes.count
        guard end - start == key.count else { return false }
        return keyBytes.withUnsafeBytes { stored in
            key.count == 0 || memcmpBytes(stored.baseAddress! + start, key.baseAddress!, key.count)
        }
    }

    private mutating func grow() {
        table = [Int32](repeating: -1, count: table.count * 2)
        mask = table.count - 1
        for (index, hash) in hashes.enumerated() {
            var slot = Int(truncatingIfNeeded: hash) & mask
            while table[slot] >= 0 { slot = (slot + 1) & mask }
            table[slot] = Int32(index)
        }
    }
}

@inline(__always)
func memcmpBytes(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ count: Int) -> Bool {
    for offset in 0..<count where a.load(fromByteOffset: offset, as: UInt8.self) != b.load(fromByteOffset: offset, as: UInt8.self) {
        return false
    }
    return true
}
