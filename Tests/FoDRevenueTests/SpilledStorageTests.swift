@testable import FoDRevenue
import FoDTestSupport
import Foundation
import Testing

/// The held activations and the sorted lines, in memory and written out beyond their budgets.
@Suite("Spilled storage")
struct SpilledStorageTests {
    static func folder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fod-storage-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    static func id(_ number: Int, _ generator: inout SplitMix64) -> [UInt8] {
        Array("id-\(number)-".utf8) + (0..<Int(generator.next() % 40)).map { _ in UInt8(ascii: "a") + UInt8(generator.next() % 26) }
    }

    @Test("held activations come back in file order with their ids and VINs, in memory or from disk; skipped entries are left out")
    func heldActivations() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        for (budget, blockRecords) in [(Int.max, 1 << 16), (1, 7), (20_000, 50)] {
            let held = HeldActivations(budget: budget, folder: folder.path, blockRecords: blockRecords)
            var generator = SplitMix64(seed: 11)
            var expected: [(entry: Int64, bytes: [UInt8])] = []
            for number in 0..<3_001 {
                let id = Self.id(number, &generator)
                let vin = Array("WVWZZZ1KZAW\(String(100_000 + number))".utf8)
                let entry = Int64(number * 3 + 5)
                try id.withUnsafeBytes { i in
                    try vin.withUnsafeBytes { v in
                        try held.append(HeldActivation(time: Int64(number), entry: entry, gross: Int64(number), idOffset: 0, dealer: 1,
                                                       saleKind: 0, idLength: UInt8(id.count), inPeriod: true), id: i, vin: v)
                    }
                }
                expected.append((entry, id + vin))
            }
            #expect(held.count == expected.count)
            #expect((held.storedBlocks > 0) == (budget != Int.max), "budget \(budget)")
            // Looking up by entry finds exactly the activations in memory, with their bytes.
            var found = 0
            for (entry, bytes) in expected {
                if let (record, stored) = held.idAndVIN(entry: entry) {
                    found += 1
                    #expect(record.entry == entry && Array(stored) == bytes)
                }
                #expect(held.idAndVIN(entry: entry + 1) == nil)
            }
            #expect(budget == Int.max ? found == expected.count : found < expected.count)
            let skipping: [Int64] = expected.indices.filter { $0 % 5 == 2 }.map { expected[$0].entry }
            for consuming in [false, true] {
                var walked: [(Int64, [UInt8])] = []
                try held.forEach(consuming: consuming, skipping: skipping) { record, buffer in
                    let start = Int(record.idOffset)
                    walked.append((record.entry, Array(buffer[start..<(start + Int(record.idLength) + 17)])))
                }
                let kept = expected.filter { !skipping.contains($0.entry) }
                #expect(walked.map(\.0) == kept.map(\.entry))
                #expect(walked.map(\.1) == kept.map(\.bytes))
            }
            // After a consuming walk nothing is held in memory.
            #expect(held.bytesInMemory == 0)
            #expect(held.idAndVIN(entry: expected[0].entry) == nil)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }

    @Test("the line sorter gives the same order from one run in memory as merged from many runs on disk")
    func lineSorter() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        func lines(budget: Int, pageLines: Int) throws -> (order: [[UInt8]], runs: Int) {
            let sorter = LineSorter(budget: budget, folder: folder.path, pageLines: pageLines)
            var generator = SplitMix64(seed: 21)
            for number in 0..<5_000 {
                // Few dealers and times, so that many lines tie up to the kind or the id.
                let entry = LineEntry(time: Int64(generator.next() % 50), gross: Int64(number), dealerRank: Int32(generator.next() % 4) - 1,
                                      dealer: 0, saleKind: 0, rule: 0, tierBonusBps: 0, bytesOffset: 0, eventIDLength: 0, refersToLength: 0,
                                      isClawback: generator.next() % 3 == 0)
                let id = Self.id(number, &generator)
                let refersTo = entry.isClawback ? Self.id(number + 1_000_000, &generator) : []
                let vin = Array("WVWZZZ1KZAW394821".utf8)
                try id.withUnsafeBytes { i in
                    try refersTo.withUnsafeBytes { r in try vin.withUnsafeBytes { v in try sorter.append(entry, eventID: i, refersTo: r, vin: v) } }
                }
            }
            sorter.seal()
            var order: [[UInt8]] = []
            var previous: (LineEntry, [UInt8])?
            try sorter.makeMerge().forEach { entry, bytes in
                let start = Int(entry.bytesOffset)
                let all = Array(bytes[start..<(start + Int(entry.eventIDLength) + Int(entry.refersToLength) + 17)])
                if let (before, beforeBytes) = previous {
                    let ordered = beforeBytes.withUnsafeBytes { a in
                        all.withUnsafeBytes { b in
                            var x = before, y = entry
                            x.bytesOffset = 0
                            y.bytesOffset = 0
                            return LineEntry.precedes(x, a, y, b)
                        }
                    }
                    #expect(ordered, "lines out of order")
                }
                var kept = entry
                kept.bytesOffset = 0
                previous = (kept, all)
                order.append(Array("\(entry.gross):".utf8) + all)
            }
            #expect(order.count == sorter.count)
            return (order, sorter.storedRuns)
        }
        let inMemory = try lines(budget: Int.max, pageLines: 4096)
        #expect(inMemory.runs == 0)
        for (budget, pageLines) in [(20_000, 7), (60_000, 4096), (1, 1)] {
            let merged = try lines(budget: budget, pageLines: pageLines)
            #expect(merged.runs > 1, "budget \(budget)")
            #expect(merged.order == inMemory.order, "budget \(budget), pages of \(pageLines)")
        }
    }
}
