@testable import FoDRevenue
import FoDTestSupport
import Foundation
import Testing

/// The events export kept in a temporary file (a close's month, `fod report --db`): read back
/// byte for byte, from the start and at any offset, and the same report as from memory.
@Suite("Events spool")
struct EventsSpoolTests {
    @Test("blocks of any size come back in order, in reads of any size and at any offset; past the end is 0")
    func roundTrip() throws {
        let spool = try EventsSpool()
        var generator = SplitMix64(seed: 7)
        var expected: [UInt8] = []
        for _ in 0..<200 {
            let block = (0..<Int(generator.next() % 5_000)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            try spool.append(block)
            expected += block
        }
        #expect(spool.size == Int64(expected.count))
        var read: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 7_919)
        var source = spool
        while true {
            let want = Int(generator.next() % UInt64(chunk.count)) + 1
            let count = try chunk.withUnsafeMutableBytes { try source.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<want])) }
            if count == 0 { break }
            read += chunk[0..<count]
        }
        #expect(read == expected)
        for _ in 0..<100 {
            let offset = Int(generator.next() % UInt64(expected.count + 10))
            var buffer = [UInt8](repeating: 0, count: 300)
            let count = try buffer.withUnsafeMutableBytes { try spool.read(at: Int64(offset), into: $0) }
            #expect(count == max(0, min(300, expected.count - offset)))
            #expect(Array(buffer[0..<count]) == Array(expected[min(offset, expected.count)..<min(offset + count, expected.count)]))
        }
    }

    @Test("a report read from the spool equals the report read from memory (the fixture month)")
    func sameReport() throws {
        let csv = try String(contentsOf: TestPaths.file("fixtures/revenue/events.csv"), encoding: .utf8)
        let fromMemory = try ReportRun.run(csv: csv, rules: ReportRun.fixtureRules, period: "2026-11")
        let spool = try EventsSpool()
        // The export arrives in pages: split the file at odd places.
        let bytes = Array(csv.utf8)
        var start = 0
        for size in [1, 17, 4_096, 3, 100_000] where start < bytes.count {
            try spool.append(Array(bytes[start..<min(start + size, bytes.count)]))
            start += size
        }
        if start < bytes.count { try spool.append(Array(bytes[start...])) }
        let builder = ReportBuilder(rules: ReportRun.fixtureRules, period: try ReportPeriod("2026-11")) { _ in }
        var source = spool
        try CSVEventReader.read(&source, into: builder)
        let fromSpool = ReportRun.Output(report: try builder.finish(), rejects: [])
        #expect(fromSpool.statements == fromMemory.statements)
        #expect(fromSpool.lines == fromMemory.lines)
        #expect(!fromSpool.lines.isEmpty)
    }
}
