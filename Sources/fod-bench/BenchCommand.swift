import ArgumentParser

/// `fod-bench`: throughput benchmarks that print figures and ratios against a reference measured
/// in the same run.
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fod-bench",
        abstract: "Benchmarks for fod. Build with -c release: swift run -c release fod-bench tokens",
        subcommands: [TokensBenchmark.self, HSMSigningBenchmark.self, ScaleLoad.self, VerifyLoopBenchmark.self]
    )
}
