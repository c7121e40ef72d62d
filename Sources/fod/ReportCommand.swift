import ArgumentParser
import FoDAPI
import Foundation
import FoDRevenue
import FoDServer
import FoDStore

/// `fod report`.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Compute a month's dealer revenue-share statements from an events file.",
        discussion: """
        Reads the events file once, streaming (CSV with a header row, or JSON
        Lines for files ending in .jsonl / .ndjson), applies the rules file and
        writes into --out, within --memory-limit (what does not fit goes to
        temporary files in --temp-dir, removed as they are made):
          statements.csv  one row per dealer and currency
          lines.csv       every activation and clawback of the month
          report.json     statements, totals per currency, counts, input hash
          rejects.csv     every row that could not be used, with the reason
          report.html     totals, payable per dealer, mix per feature

        Exit codes:
          0   done, no row rejected
          1   done, but rows were rejected (see rejects.csv);
              --allow-rejects makes this 0
          2   bad input: unreadable file, invalid rules, bad header
          64  wrong usage
        See docs/revenue-share.md for the rules file and every figure.
        """
    )

    @Option(help: "The events file (CSV, or JSON Lines).")
    var events: String?
    @Option(help: "Read the events from a service's database instead: its data folder, fod.sqlite, or a postgres:// URL.")
    var db: String?
    @Option(help: "The rules file (JSON).")
    var rules: String?
    @Option(help: "Instead of --rules: a plan history file ({\"plan\": ID, \"versions\": [rules + effective_from, model]}): each event is priced by the version in force at its instant.")
    var plan: String?
    @Option(help: "The month to report, YYYY-MM.")
    var period: String?
    @Option(help: "The folder to write the report into (created if missing).")
    var out: String?
    @Flag(name: .customLong("book-extract"),
          help: "Write a dealer's book extract (§87c(2) HGB) of the closed periods --from to --to instead, from --db, as book-extract-DEALER.csv and .json into --out (default: the CSV on standard output).")
    var bookExtract = false
    @Option(help: "With --book-extract: the dealer.")
    var dealer: String?
    @Option(help: "With --book-extract: the first period, YYYY-MM.")
    var from: String?
    @Option(help: "With --book-extract: the last period, YYYY-MM.")
    var to: String?
    @Option(help: "Time zone for month boundaries (IANA name).")
    var timezone: String = "UTC"
    @Flag(name: .customLong("allow-rejects"), help: "Exit 0 even when rows were rejected.")
    var allowRejects = false
    @Option(name: .customLong("memory-limit"),
            help: "The memory the report plans with (such as 512MB or 2GB): an eighth for event ids, a quarter for the activations of the two months held, a quarter for sorting lines.csv; beyond them, temporary files.")
    var memoryLimit = ByteSize(bytes: 512 << 20)
    @Option(name: .customLong("temp-dir"), help: "The folder for temporary files beyond the memory limit (default: TMPDIR, else /tmp).")
    var tempDir: String?

    /// The smallest memory limit: the reading buffers and tables need about this much whatever the file.
    static let smallestMemoryLimit = 64 << 20

    func validate() throws {
        if bookExtract {
            guard db != nil, events == nil else { throw ValidationError("--book-extract reads a service's database: give --db PATH") }
            guard dealer != nil, from != nil, to != nil else { throw ValidationError("--book-extract needs --dealer, --from and --to") }
            return
        }
        guard (rules == nil) != (plan == nil), period != nil, out != nil else { throw ValidationError("give --rules (or --plan), --period and --out") }
        if (events == nil) == (db == nil) { throw ValidationError("give either --events FILE or --db PATH") }
        if memoryLimit.bytes < ReportCommand.smallestMemoryLimit {
            throw ValidationError("--memory-limit must be at least 64MB (reading buffers and tables need that much)")
        }
    }

    func run() async throws {
        if bookExtract {
            try await CLIError.run { try await writeBookExtract() }
            return
        }
        let period = period ?? "", out = out ?? ""
        var rejected: Int64 = 0
        let databaseSource = try await CLIError.run { () async throws -> DatabaseEventSource? in
            guard let db else { return nil }
            return try await DatabaseEventSource.read(db)
        }
        try CLIError.run {
            let pricing = try plan.map { try Plan(json: try CLIInput.readFile($0)) } ?? .single(try RuleSet(json: try CLIInput.readFile(rules ?? "")))
            let reportPeriod = try ReportPeriod(period, timeZone: timezone)
            if let tempDir {
                var isFolder: ObjCBool = false
                guard FileManager.default.fileExists(atPath: tempDir, isDirectory: &isFolder), isFolder.boolValue,
                      FileManager.default.isWritableFile(atPath: tempDir) else {
                    throw RevenueError(.optionInvalid, "--temp-dir \(tempDir) is not a folder this process can write to")
                }
            }
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            var source: any EventSource = try databaseSource ?? FileByteSource(path: events ?? "")
            let rejects = try FileSink(path: (out as NSString).appendingPathComponent("rejects.csv"))
            try rejects.write(ReportFiles.rejectsHeader())
            var pendingRejects: [UInt8] = []
            var writeError: (any Error)?
            let builder = ReportBuilder(plan: pricing, period: reportPeriod, expectedRows: Int(source.size / 100),
                                        memoryLimit: memoryLimit.bytes, temporaryFolder: tempDir) { row in
                pendingRejects.append(contentsOf: ReportFiles.rejectRow(row))
                if pendingRejects.count >= 1 << 16 {
                    do { try rejects.write(pendingRejects) } catch { writeError = error }
                    pendingRejects.removeAll(keepingCapacity: true)
                }
            }
            let progress = Progress(total: source.size)
            let jsonLines = events.map { $0.hasSuffix(".jsonl") || $0.hasSuffix(".ndjson") } ?? false
            if jsonLines {
                try JSONLinesEventReader.read(&source, into: builder, progress: progress.update)
            } else {
                source = try PipelinedEventReader.read(source, into: builder, progress: progress.update)
            }
            // The builder may read ids again from the file, so it finishes before the file is closed.
            let report = try builder.finish()
            let inputHash = source.finish()
            progress.done()
            try rejects.write(pendingRejects)
            try rejects.close()
            if let writeError { throw writeError }
            let folder = out as NSString
            try FileSink.write(ReportFiles.statementsCSV(report), to: folder.appendingPathComponent("statements.csv"))
            let lines = try FileSink(path: folder.appendingPathComponent("lines.csv"))
            try ReportFiles.linesCSV(report) { try lines.write($0) }
            try lines.close()
            try FileSink.write(ReportFiles.reportJSON(report, inputSHA256: inputHash), to: folder.appendingPathComponent("report.json"))
            try FileSink.write(Array(ReportHTML.render(report, inputSHA256: inputHash).utf8), to: folder.appendingPathComponent("report.html"))
            rejected = report.counts.rejected
            let c = report.counts
            FileHandle.standardError.write(Data("""
            \(report.period): \(c.rowsRead) rows read, \(c.used) used, \(c.outsidePeriod) outside the period, \(c.rejected) rejected; \
            \(report.statements.count) statements written to \(out); \(builder.idComparisons) ids compared with an earlier row's (\(builder.idRereads) read again from the file)\
            \(builder.spilledIDs > 0 ? "; \(builder.spilledIDs) ids beyond the memory limit checked from a temporary file" : "")\
            \(builder.spilledActivationBlocks > 0 ? "; \(builder.spilledActivationBlocks) blocks of held activations in a temporary file" : "")\
            \(builder.spilledLineRuns > 0 ? "; lines sorted in \(builder.spilledLineRuns + 1) runs" : "")\n
            """.utf8))
        }
        if rejected > 0 && !allowRejects {
            CLIError.printError("\(rejected) rows were rejected; see rejects.csv (or pass --allow-rejects)")
            throw ExitCode(1)
        }
    }
}

/// A progress line on stderr, only when stderr is a terminal.
///
/// `@unchecked Sendable`: it is called from the reading thread only, after the main thread made it.
final class Progress: @unchecked Sendable {
    private let total: Int64
    private let enabled = isatty(2) == 1
    private var last = Date.distantPast

    init(total: Int64) { self.total = total }

    func update(_ bytes: Int64) {
        guard enabled, Date().timeIntervalSince(last) > 0.5 else { return }
        last = Date()
        let percent = total > 0 ? bytes * 100 / total : 0
        FileHandle.standardError.write(Data("\rreading: \(bytes >> 20) of \(total >> 20) MiB (\(percent) %)   ".utf8))
    }

    func done() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}

extension ReportCommand {
    /// `--book-extract`: the dealer's closed lines with rule, rate, the token's `jti` and the audit entry.
    func writeBookExtract() async throws {
        for (name, value) in [("--from", from ?? ""), ("--to", to ?? "")] {
            do { _ = try ReportPeriod(value) } catch { throw ValidationError("\(name) \(value) is not YYYY-MM") }
        }
        let opened = try await DatabaseEventSource.open(db ?? "")
        defer { opened.close() }
        let extract = try await BookExtract.make(opened.store, dealer: dealer ?? "", from: from ?? "", to: to ?? "")
        let csv = BookExtract.csv(extract)
        guard let out else {
            FileHandle.standardOutput.write(Data(csv))
            return
        }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let folder = out as NSString
        let name = "book-extract-\(extract.dealerID)"
        try FileSink.write(csv, to: folder.appendingPathComponent(name + ".csv"))
        let encoder = JSONEncoder.sorted
        encoder.outputFormatting.insert(.prettyPrinted)
        try FileSink.write(Array(try encoder.encode(extract)) + [10], to: folder.appendingPathComponent(name + ".json"))
        print("\(extract.lines.count) lines of \(extract.closedPeriods.count) closed period(s) written to \(folder.appendingPathComponent(name)).csv and .json")
    }
}
