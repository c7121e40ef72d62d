import ArgumentParser
import Foundation
import FoDRevenue

/// `fod gen`.
struct GenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gen",
        abstract: "Generate synthetic data for tests and benchmarks.",
        subcommands: [Events.self]
    )

    /// `fod gen events`.
    struct Events: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a realistic synthetic events CSV (one year, thousands of dealers, 14 markets, refunds, a few bad rows).",
            discussion: "The same --rows and --seed give the same file, byte for byte."
        )

        @Option(help: "Rows to write.")
        var rows: Int
        @Option(help: "Random seed.")
        var seed: UInt64 = 1
        @Option(help: "The year the events fall in.")
        var year: Int = 2026
        @Option(help: "How event ids are spelled: counter (EV1), padded (evt-000000001) or uuid7. The rows are otherwise the same.")
        var ids: String = "counter"
        @Option(help: "Output file.")
        var out: String

        func validate() throws {
            guard rows >= 0 else { throw ValidationError("--rows must not be negative") }
            guard EventGenerator.IDShape(rawValue: ids) != nil else {
                throw ValidationError("--ids must be one of \(EventGenerator.IDShape.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }

        func run() throws {
            try CLIError.run {
                let sink = try FileSink(path: out)
                try EventGenerator(rows: rows, seed: seed, year: year, ids: EventGenerator.IDShape(rawValue: ids) ?? .counter).writeCSV { try sink.write($0) }
                try sink.close()
            }
        }
    }
}
