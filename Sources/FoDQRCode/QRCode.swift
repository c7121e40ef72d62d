/// A QR code symbol (ISO/IEC 18004, model 2) holding bytes in byte mode: the smallest version
/// that fits at the asked error-correction level, and the mask with the lowest penalty unless
/// one is given.
public struct QRCode: Sendable {
    /// 1…40; the symbol is `17 + 4 × version` modules wide.
    public let version: Int
    /// The error-correction level.
    public let errorCorrection: QRErrorCorrection
    /// The data mask 0…7.
    public let mask: Int
    /// Modules per side.
    public var size: Int { version * 4 + 17 }
    /// Dark modules, row by row (`modules[y * size + x]`).
    public let modules: [Bool]

    /// Whether the module in column `x`, row `y` is dark.
    public subscript(x: Int, y: Int) -> Bool { modules[y * size + x] }

    /// Encodes `bytes`.
    /// - Parameters:
    ///   - version: a fixed version, or `nil` for the smallest that fits.
    ///   - mask: a fixed mask, or `nil` for the one with the lowest penalty score.
    /// - Throws: ``QRError``.
    public init(bytes: [UInt8], errorCorrection: QRErrorCorrection = .medium, version fixedVersion: Int? = nil, mask fixedMask: Int? = nil) throws {
        if let fixedVersion, !(1...40).contains(fixedVersion) { throw QRError.invalidParameter("version \(fixedVersion) is not 1…40") }
        if let fixedMask, !(0...7).contains(fixedMask) { throw QRError.invalidParameter("mask \(fixedMask) is not 0…7") }
        let candidates = fixedVersion.map { [$0] } ?? Array(1...40)
        guard let version = candidates.first(where: { QRCode.dataBits($0, errorCorrection) >= QRCode.neededBits(bytes.count, $0) }) else {
            throw QRError.dataTooLong(bytes: bytes.count, level: errorCorrection)
        }
        var grid = ModuleGrid(version: version)
        grid.drawFunctionPatterns()
        grid.placeCodewords(QRCode.codewords(bytes, version: version, errorCorrection))
        var best: (mask: Int, grid: ModuleGrid, penalty: Int)?
        for mask in fixedMask.map({ [$0] }) ?? Array(0...7) {
            var candidate = grid
            candidate.applyMask(mask)
            candidate.drawFormatBits(errorCorrection: errorCorrection, mask: mask)
            let penalty = fixedMask == nil ? candidate.penalty() : 0
            if best == nil || penalty < best!.penalty { best = (mask, candidate, penalty) }
        }
        self.version = version
        self.errorCorrection = errorCorrection
        self.mask = best!.mask
        self.modules = best!.grid.dark
    }

    /// Encodes the UTF-8 bytes of `text`.
    /// - Throws: ``QRError``.
    public init(text: String, errorCorrection: QRErrorCorrection = .medium) throws {
        try self.init(bytes: Array(text.utf8), errorCorrection: errorCorrection)
    }

    /// Bits a byte-mode segment of `count` bytes needs in `version`.
    static func neededBits(_ count: Int, _ version: Int) -> Int { 4 + (version < 10 ? 8 : 16) + count * 8 }

    /// Modules left for data and error correction once the function patterns are drawn.
    static func rawDataModules(_ version: Int) -> Int {
        var result = (16 * version + 128) * version + 64
        if version >= 2 {
            let alignment = version / 7 + 2
            result -= (25 * alignment - 10) * alignment - 55
            if version >= 7 { result -= 36 }
        }
        return result
    }

    /// Data bits (without error correction) of `version` at `level`.
    static func dataBits(_ version: Int, _ level: QRErrorCorrection) -> Int {
        (rawDataModules(version) / 8 - level.codewordsPerBlock[version - 1] * level.blocks[version - 1]) * 8
    }

    /// The segment, padded, split into blocks with their error correction and interleaved.
    static func codewords(_ bytes: [UInt8], version: Int, _ level: QRErrorCorrection) -> [UInt8] {
        let capacity = dataBits(version, level)
        var bits = BitBuffer()
        bits.append(0b0100, count: 4)
        bits.append(bytes.count, count: version < 10 ? 8 : 16)
        for byte in bytes { bits.append(Int(byte), count: 8) }
        bits.append(0, count: min(4, capacity - bits.count))
        bits.append(0, count: (8 - bits.count % 8) % 8)
        var pad = 0xEC
        while bits.count < capacity {
            bits.append(pad, count: 8)
            pad ^= 0xEC ^ 0x11
        }
        let data = bits.bytes

        let blockCount = level.blocks[version - 1]
        let eccLength = level.codewordsPerBlock[version - 1]
        let rawCodewords = rawDataModules(version) / 8
        let shortBlocks = blockCount - rawCodewords % blockCount
        let shortLength = rawCodewords / blockCount
        let generator = ReedSolomon.generator(degree: eccLength)
        var blocks: [(data: ArraySlice<UInt8>, ecc: [UInt8])] = []
        var offset = 0
        for index in 0..<blockCount {
            let length = shortLength - eccLength + (index < shortBlocks ? 0 : 1)
            let slice = data[offset..<(offset + length)]
            offset += length
            blocks.append((slice, ReedSolomon.remainder(slice, generator: generator)))
        }
        var result: [UInt8] = []
        result.reserveCapacity(rawCodewords)
        for i in 0...(shortLength - eccLength) {
            for block in blocks where i < block.data.count { result.append(block.data[block.data.startIndex + i]) }
        }
        for i in 0..<eccLength {
            for block in blocks { result.append(block.ecc[i]) }
        }
        return result
    }
}

/// Bits appended most significant first.
struct BitBuffer {
    private(set) var bits: [Bool] = []
    var count: Int { bits.count }

    mutating func append(_ value: Int, count: Int) {
        for i in stride(from: count - 1, through: 0, by: -1) { bits.append((value >> i) & 1 == 1) }
    }

    var bytes: [UInt8] {
        stride(from: 0, to: bits.count, by: 8).map { start in
            bits[start..<start + 8].reduce(UInt8(0)) { ($0 << 1) | ($1 ? 1 : 0) }
        }
    }
}
