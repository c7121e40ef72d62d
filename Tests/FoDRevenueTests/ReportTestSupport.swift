import FoDRevenue
import FoDTestSupport
import Foundation

/// Runs the report engine in memory, the way `fod report` does.
enum ReportRun {
    struct Output {
        let report: Report
        let rejects: [RejectedRow]
        var statements: String { String(decoding: ReportFiles.statementsCSV(report), as: UTF8.self) }
        var lines: String {
            var bytes: [UInt8] = []
            try? ReportFiles.linesCSV(report) { bytes += $0 }
            return String(decoding: bytes, as: UTF8.self)
        }
        var rejectsCSV: String {
            String(decoding: ReportFiles.rejectsHeader() + rejects.flatMap { ReportFiles.rejectRow($0) }, as: UTF8.self)
        }
    }

    static func run(csv: String, rules: RuleSet, period: String, pipelined: Bool = false, timeZone: String = "UTC") throws -> Output {
        var rejects: [RejectedRow] = []
        let builder = ReportBuilder(rules: rules, period: try ReportPeriod(period, timeZone: timeZone)) { rejects.append($0) }
        let source = MemoryByteSource(Array(csv.utf8))
        if pipelined {
            _ = try PipelinedEventReader.read(source, into: builder)
        } else {
            var source = source
            try CSVEventReader.read(&source, into: builder)
        }
        return Output(report: try builder.finish(), rejects: rejects)
    }

    static func runJSONLines(_ text: String, rules: RuleSet, period: String) throws -> Output {
        var rejects: [RejectedRow] = []
        let builder = ReportBuilder(rules: rules, period: try ReportPeriod(period)) { rejects.append($0) }
        var source = MemoryByteSource(Array(text.utf8))
        try JSONLinesEventReader.read(&source, into: builder)
        return Output(report: try builder.finish(), rejects: rejects)
    }

    static let fixtureRules: RuleSet = {
        // The fixture file is part of the repository; a failure here fails every test that uses it.
        try! RuleSet(json: String(contentsOf: TestPaths.file("fixtures/revenue/rules.json"), encoding: .utf8))
    }()

    static let header = EventColumn.headerLine + "\n"

    /// The rows of a CSV without quoted fields as JSON Lines (line numbers shift by one): amounts
    /// that look like numbers as JSON numbers, everything else as strings.
    static func jsonLines(fromCSV csv: String) -> String {
        let lines = csv.split(separator: "\n").map(String.init)
        let names = lines[0].split(separator: ",").map(String.init)
        var jsonl = ""
        for line in lines.dropFirst() {
            let values = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            let members = zip(names, values).map { name, value in
                (name == "gross_minor" || name == "vat_bps") && !value.isEmpty && !value.hasPrefix("-") ? "\"\(name)\":\(value)" : "\"\(name)\":\"\(value)\""
            }
            jsonl += "{" + members.joined(separator: ",") + "}\n"
        }
        return jsonl
    }

    /// A synthetic events file from the generator.
    static func generated(rows: Int, seed: UInt64) throws -> String {
        var bytes: [UInt8] = []
        try EventGenerator(rows: rows, seed: seed).writeCSV { bytes += $0 }
        return String(decoding: bytes, as: UTF8.self)
    }
}
