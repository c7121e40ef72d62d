@testable import FoDRevenue
import FoDTestSupport
import Foundation
import Testing

/// Duplicates and refund matches are decided by the ids themselves: the same files come out
/// with hashes that collide all the time, and with the ids spelled in any other way.
@Suite("Exact id verdicts")
struct ExactVerdictTests {
    enum Reader: String, CaseIterable { case plain, pipelined, jsonLines }

    static func run(_ csv: String, period: String, hash: EventIDHash = .sipHash, reader: Reader = .plain,
                    spill: (budget: Int, partitionBudget: Int, folder: String)? = nil, held: ReportBuilder.Budgets? = nil,
                    spilled: ((ReportBuilder) -> Void)? = nil) throws -> ReportRun.Output {
        var rejects: [RejectedRow] = []
        var budgets = held ?? ReportBuilder.Budgets()
        if let spill { budgets.idTable = spill.budget }
        let builder = ReportBuilder(rules: ReportRun.fixtureRules, period: try ReportPeriod(period), idHash: hash,
                                    budgets: budgets, temporaryFolder: spill?.folder ?? "/tmp") { rejects.append($0) }
        if let spill { builder.spillPartitionBudget = spill.partitionBudget }
        defer { spilled?(builder) }
        switch reader {
        case .plain:
            var source = MemoryByteSource(Array(csv.utf8))
            try CSVEventReader.read(&source, into: builder)
        case .pipelined:
            _ = try PipelinedEventReader.read(MemoryByteSource(Array(csv.utf8)), into: builder)
        case .jsonLines:
            var source = MemoryByteSource(Array(ReportRun.jsonLines(fromCSV: csv).utf8))
            try JSONLinesEventReader.read(&source, into: builder)
        }
        return ReportRun.Output(report: try builder.finish(), rejects: rejects)
    }

    /// Hashes that collide far more than any real one: every match they propose must be confirmed.
    static let badHashes: [(name: String, hash: EventIDHash)] = [
        ("constant", EventIDHash { _ in 0x5555_5555_5555_5555 }),
        ("length only", EventIDHash { UInt64($0.count) &* 0x9E37_79B9_7F4A_7C15 }),
        ("last byte only", EventIDHash { UInt64($0.last ?? 0) &* 0x9E37_79B9_7F4A_7C15 }),
        ("first eight bytes only", EventIDHash { bytes in
            var h: UInt64 = 0
            for byte in bytes.prefix(8) { h = (h &* 31) &+ UInt64(byte) }
            return h &* 0x9E37_79B9_7F4A_7C15
        }),
    ]

    static func expectSame(_ a: ReportRun.Output, _ b: ReportRun.Output, _ name: String) {
        #expect(a.statements == b.statements, "statements differ with \(name)")
        #expect(a.lines == b.lines, "lines differ with \(name)")
        #expect(a.rejectsCSV == b.rejectsCSV, "rejects differ with \(name)")
        #expect(a.report.counts == b.report.counts, "counts differ with \(name)")
    }

    @Test("the fixture gives the same files with hashes that collide, with every reader")
    func fixtureWithBadHashes() throws {
        let csv = try String(contentsOf: TestPaths.file("fixtures/revenue/events.csv"), encoding: .utf8)
        let reference = try Self.run(csv, period: "2026-11")
        #expect(reference.rejects.contains { $0.code == .duplicateEvent })
        for (name, hash) in Self.badHashes {
            Self.expectSame(reference, try Self.run(csv, period: "2026-11", hash: hash), name)
            Self.expectSame(reference, try Self.run(csv, period: "2026-11", hash: hash, reader: .pipelined), "\(name), pipelined")
        }
    }

    @Test("generated events (duplicates, refunds of older and unknown activations) give the same files with hashes that collide")
    func generatedWithBadHashes() throws {
        // A year of events: the small file for the hashes that make every id a candidate.
        // Rows for the paths through the fingerprint table (ids of rows not held, read again): a late
        // refund of a January activation and a second refund of it, a June row reusing a January
        // id, and a refund of a January refund.
        let older = """
        OLD-1,2026-01-10T10:00:00Z,activation,,WVWZZZ1KZAW394821,NAV_PLUS,P1Y,dealer,DE-10001,DE,EUR,14900,1900
        OLD-2,2026-01-11T10:00:00Z,activation,,WVWZZZ1KZAW394821,NAV_PLUS,P1Y,dealer,DE-10001,DE,EUR,14900,1900
        R-JAN,2026-01-12T10:00:00Z,refund,OLD-2,,,,,,,,,
        OLD-1-R,2026-06-05T10:00:00Z,refund,OLD-1,,,,,,,,,
        OLD-1-R2,2026-06-06T10:00:00Z,refund,OLD-1,,,,,,,,,
        OLD-2,2026-06-07T10:00:00Z,activation,,WVWZZZ1KZAW394821,NAV_PLUS,P1Y,dealer,DE-10001,DE,EUR,14900,1900
        R-R,2026-06-08T10:00:00Z,refund,R-JAN,,,,,,,,,

        """
        let small = try ReportRun.generated(rows: 400, seed: 9) + older
        let large = try ReportRun.generated(rows: 1_500, seed: 9) + older
        for (name, hash) in Self.badHashes {
            let csv = name == "constant" || name == "length only" ? small : large
            for reader in Reader.allCases {
                let reference = try Self.run(csv, period: "2026-06", reader: reader)
                Self.expectSame(reference, try Self.run(csv, period: "2026-06", hash: hash, reader: reader), "\(name), \(reader)")
            }
        }
        let reference = try Self.run(large, period: "2026-06")
        for code: RevenueError.Code in [.duplicateEvent, .refundDuplicate, .refundUnknownActivation] {
            #expect(reference.rejects.contains { $0.code == code }, "no \(code) in the test file")
        }
        #expect(reference.report.counts.lateRefunds > 0)
        #expect((try reference.report.lines.collect()).contains { $0.kind == .clawback })
    }

    @Test("beyond the id table's budget the spilled ids give the same files, in one pass per partition or several, with any hash")
    func spilled() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fod-spill-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        // Duplicates both of ids the table holds and of ids first seen after it filled; refunds of
        // held and older activations whose ids were spilled; a refund that is itself a spilled duplicate.
        let late = """
        OLD-1,2026-01-10T10:00:00Z,activation,,WVWZZZ1KZAW394821,NAV_PLUS,P1Y,dealer,DE-10001,DE,EUR,14900,1900
        LATE-A,2026-06-02T10:00:00Z,activation,,WVWZZZ1KZAW394821,NAV_PLUS,P1Y,dealer,DE-10001,DE,EUR,14900,1900
        LATE-A,2026-06-03T10:00:00Z,activation,,WVWZZZ1KZAW394821,NAV_PLUS,P1Y,dealer,DE-10002,DE,EUR,14900,1900
        LATE-R,2026-06-04T10:00:00Z,refund,LATE-A,,,,,,,,,
        LATE-R,2026-06-05T10:00:00Z,refund,OLD-1,,,,,,,,,
        OLD-1-R,2026-06-05T10:00:00Z,refund,OLD-1,,,,,,,,,
        LATE-B,2026-05-20T10:00:00Z,activation,,WVWZZZ1KZAW394821,ACC,P1M,dealer,DE-10001,DE,EUR,2400,1900
        LATE-B,2026-07-20T10:00:00Z,activation,,WVWZZZ1KZAW394821,ACC,P1M,dealer,DE-10001,DE,EUR,2400,1900
        LATE-B-R,2026-06-06T10:00:00Z,refund,LATE-B,,,,,,,,,
        OLD-1-R2,2026-06-07T10:00:00Z,refund,OLD-1,,,,,,,,,
        NOPE-R,2026-06-07T10:00:00Z,refund,NOPE,,,,,,,,,

        """
        let csv = try ReportRun.generated(rows: 20_000, seed: 5) + late
        let reference = try Self.run(csv, period: "2026-06")
        let smallest = FingerprintTable.minimumCapacity * 8
        for (partitionBudget, name) in [(1 << 20, "one pass"), (2_000, "several passes")] {
            var records: Int64 = 0
            let output = try Self.run(csv, period: "2026-06", reader: .pipelined, spill: (smallest, partitionBudget, folder.path)) {
                records = $0.partitions?.records ?? 0
            }
            Self.expectSame(reference, output, name)
            #expect(records > 15_000, "the ids were not spilled (\(name))")
        }
        // The temporary files are gone from the folder as soon as they are made.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
        for code: RevenueError.Code in [.duplicateEvent, .refundDuplicate, .refundUnknownActivation] {
            #expect(reference.rejects.contains { $0.code == code }, "no \(code) in the test file")
        }
        #expect(reference.rejects.contains { $0.eventID == "LATE-A" && $0.code == .duplicateEvent })
        #expect(reference.rejects.contains { $0.eventID == "LATE-R" && $0.code == .duplicateEvent })
        // Hashes that collide, spilled: all in one partition, every id a candidate.
        let small = try ReportRun.generated(rows: 600, seed: 5) + late
        for (name, hash) in Self.badHashes {
            Self.expectSame(try Self.run(small, period: "2026-06"),
                            try Self.run(small, period: "2026-06", hash: hash, spill: (smallest, 2_000, folder.path)), "\(name), spilled")
        }
    }

    @Test("beyond their budgets the held activations and the sorted lines go to disk and give the same files, with every reader and any hash")
    func spilledHeldMonthsAndLines() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fod-held-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let csv = try ReportRun.generated(rows: 8_000, seed: 6)
        var tight = ReportBuilder.Budgets()
        tight.heldActivations = 1
        tight.heldBlockRecords = 64
        tight.lines = 8_192
        tight.linePageLines = 16
        let smallest = FingerprintTable.minimumCapacity * 8
        for reader in Reader.allCases {
            let reference = try Self.run(csv, period: "2026-06", reader: reader)
            #expect((try reference.report.lines.collect()).count > 400)
            #expect((try reference.report.lines.collect()).contains { $0.kind == .clawback })
            var blocks = 0, runs = 0
            let output = try Self.run(csv, period: "2026-06", reader: reader, spill: (Int.max, 1 << 20, folder.path), held: tight) {
                blocks = $0.spilledActivationBlocks
                runs = $0.spilledLineRuns
            }
            Self.expectSame(reference, output, "held months and lines spilled, \(reader)")
            #expect(blocks > 10, "the held activations were not written out (\(reader))")
            #expect(runs > 4, "the lines were not sorted in runs (\(reader))")
            #expect((try output.report.lines.collect()) == (try reference.report.lines.collect()))
        }
        // Everything spilled at once: ids, held activations and lines.
        Self.expectSame(try Self.run(csv, period: "2026-06"),
                        try Self.run(csv, period: "2026-06", reader: .pipelined, spill: (smallest, 2_000, folder.path), held: tight), "everything spilled")
        // Hashes that collide, with the held activations on disk: ids compared by reading rows again.
        let small = try ReportRun.generated(rows: 600, seed: 6)
        for (name, hash) in Self.badHashes {
            Self.expectSame(try Self.run(small, period: "2026-06"),
                            try Self.run(small, period: "2026-06", hash: hash, reader: .pipelined, spill: (Int.max, 1 << 20, folder.path), held: tight),
                            "\(name), held months spilled")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }

    // MARK: - Respelling

    enum Shape: String, CaseIterable {
        case prefix8, prefix24, prefix40, uuid4, uuid7, numeric, shortAndLong
    }

    static func respelling(_ ids: [String], _ shape: Shape) -> [String: String] {
        var generator = SplitMix64(seed: 77)
        let single = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        var map: [String: String] = [:]
        for (index, id) in ids.enumerated() {
            let spelled: String
            switch shape {
            case .prefix8: spelled = "ord-000-" + String(index)
            case .prefix24: spelled = "tenant-7-order-2026-000-" + String(index)
            case .prefix40: spelled = String(repeating: "p", count: 36) + "-id-" + String(index)
            case .uuid4: spelled = EventIDHashTests.uuid(version: 4, &generator)
            case .uuid7: spelled = EventIDHashTests.uuid(version: 7, &generator, millis: 1_780_000_000_000 + UInt64(index / 4))
            case .numeric: spelled = String(1_000_000 + index)
            case .shortAndLong:
                spelled = index < single.count ? String(single[index]) : String(index).leftPadded(64)
            }
            map[id] = spelled
        }
        return map
    }

    /// Whether an id is one the report accepts (1–64 bytes, no control characters): only those are respelled.
    static func isValidID(_ id: String) -> Bool {
        (1...64).contains(id.utf8.count) && !id.utf8.contains { $0 < 0x20 || $0 == 0x7F }
    }

    @Test("respelling every event id and refers_to leaves statements, lines and rejects the same but for the ids", arguments: Shape.allCases)
    func respelled(shape: Shape) throws {
        let csv = try ReportRun.generated(rows: 6_000, seed: 4)
        var rows = csv.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        var order: [String] = []
        var seen = Set<String>()
        for row in rows.dropFirst() {
            for id in [row[0], row[3]] where Self.isValidID(id) && seen.insert(id).inserted { order.append(id) }
        }
        let map = Self.respelling(order, shape)
        #expect(Set(map.values).count == map.count)
        for index in rows.indices.dropFirst() {
            rows[index][0] = map[rows[index][0]] ?? rows[index][0]
            rows[index][3] = map[rows[index][3]] ?? rows[index][3]
        }
        let respelled = rows.map { $0.joined(separator: ",") }.joined(separator: "\n") + "\n"
        let original = try Self.run(csv, period: "2026-06")
        let changed = try Self.run(respelled, period: "2026-06")
        #expect(changed.statements == original.statements)
        #expect(!original.rejects.isEmpty)
        #expect(changed.rejects.map(\.line) == original.rejects.map(\.line))
        #expect(changed.rejects.map(\.code) == original.rejects.map(\.code))
        let back = Dictionary(uniqueKeysWithValues: map.map { ($1, $0) })
        #expect(changed.rejects.map { back[$0.eventID] ?? $0.eventID } == original.rejects.map(\.eventID))
        // Lines with their ids spelled back; ties in time are ordered by id, so compare as sorted rows.
        func spelledBack(_ text: String) -> [String] {
            text.split(separator: "\n").map { line in
                var fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                fields[1] = back[fields[1]] ?? fields[1]
                fields[2] = back[fields[2]] ?? fields[2]
                return fields.joined(separator: ",")
            }.sorted()
        }
        #expect(spelledBack(changed.lines) == spelledBack(original.lines))
        #expect(original.report.lines.count > 100)
    }
}

/// The table itself: growing past its first level, and answering by the ids, not the hash.
@Suite("Fingerprint table")
struct FingerprintTableTests {
    @Test("past its first level every id is still found once, also when all hashes share their stored bits")
    func levels() throws {
        for sharedBits in [false, true] {
            // Ids are their own offsets; with sharedBits every hash has the same top 22 bits.
            let table = FingerprintTable(capacity: 4096)
            func hash(_ id: Int64) -> UInt64 {
                let h = UInt64(bitPattern: id) &* 0x9E37_79B9_7F4A_7C15
                return sharedBits ? (h & ((1 << 42) - 1)) : h
            }
            let count: Int64 = sharedBits ? 3_500 : 40_000
            for id in 0..<count {
                let tag = FingerprintTable.Tag(activation: id % 2 == 0, afterPeriod: id % 3 == 0)
                #expect(try table.insert(hash(id), tag, offset: id) { $0 == id } == .inserted)
            }
            #expect(table.count == Int(count))
            #expect(table.levelCount >= (sharedBits ? 2 : 4))
            for id in stride(from: Int64(0), to: count, by: 7) {
                // Inserting again finds the earlier entry, whatever level it is in.
                #expect(try table.insert(hash(id), FingerprintTable.Tag(activation: true, afterPeriod: true), offset: id + count) { $0 == id } == .existing(id))
                let found = try table.lookup(hash(id)) { $0 == id }
                #expect(found?.offset == id && found?.tag == FingerprintTable.Tag(activation: id % 2 == 0, afterPeriod: id % 3 == 0))
            }
            #expect(try table.lookup(hash(count + 5)) { $0 == count + 5 } == nil)
            #expect(table.count == Int(count))
        }
        #expect(throws: RevenueError.self) { try FingerprintTable().insert(1, FingerprintTable.Tag(activation: true, afterPeriod: false), offset: 1 << 41) { _ in false } }
    }

    @Test("at its byte budget the table still finds what it holds and refuses only new ids")
    func budget() throws {
        let budget = 3 * FingerprintTable.minimumCapacity * 8
        let table = FingerprintTable(capacity: 1, budget: budget)
        let tag = FingerprintTable.Tag(activation: true, afterPeriod: false)
        func hash(_ id: Int64) -> UInt64 { UInt64(bitPattern: id) &* 0x9E37_79B9_7F4A_7C15 }
        var held: [Int64] = []
        var id: Int64 = 0
        while true {
            let result = try table.insert(hash(id), tag, offset: id) { $0 == id }
            if result == .full { break }
            #expect(result == .inserted)
            held.append(id)
            id += 1
        }
        #expect(table.isAtBudget && table.bytes <= budget)
        // Two levels (4096 and 8192 slots), each at most 70 % full.
        #expect(table.levelCount == 2 && held.count == 4096 * 7 / 10 + 1 + 8192 * 7 / 10 + 1)
        for earlier in held { #expect(try table.insert(hash(earlier), tag, offset: earlier + 1_000_000) { $0 == earlier } == .existing(earlier)) }
        #expect(try table.insert(hash(id + 1), tag, offset: id + 1) { _ in false } == .full)
        #expect(table.count == held.count)
    }
}

/// The chunked storage of held rows.
@Suite("Chunked storage")
struct ChunkedStorageTests {
    @Test("keeping in place across chunk boundaries equals filtering, and appending goes on after it")
    func keep() {
        for (count, modulus) in [(0, 2), (65_535, 3), (65_536, 1), (200_001, 7), (131_072, 65_536)] {
            var chunked = ChunkedArray<Int>()
            for value in 0..<count { chunked.append(value) }
            #expect(Array(chunked) == Array(0..<count))
            chunked.keep { $0 % modulus != 0 }
            var expected = (0..<count).filter { $0 % modulus != 0 }
            #expect(Array(chunked) == expected && chunked.count == expected.count)
            for value in 0..<70_000 { chunked.append(-value) }
            expected += (0..<70_000).map { -$0 }
            #expect(Array(chunked) == expected)
        }
    }

    @Test("the arena keeps every pair whole and in place, across chunks")
    func arena() throws {
        let arena = ByteArena()
        var stored: [(UInt32, [UInt8])] = []
        var generator = SplitMix64(seed: 3)
        for _ in 0..<40_000 {
            let first = (0..<Int(generator.next() % 65)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            let second = (0..<Int(generator.next() % 65)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            let offset = try first.withUnsafeBytes { a in try second.withUnsafeBytes { b in try arena.append(a, b) } }
            stored.append((offset, first + second))
        }
        #expect(arena.bytes >= 2 * ByteArena.chunkSize)
        for (offset, bytes) in stored { #expect(Array(arena[offset, bytes.count]) == bytes) }
    }
}
