import Foundation
import FoDTestSupport
import Testing

@Suite("fod report and fod gen on the command line")
struct ReportCLITests {
    static let rules = TestPaths.file("fixtures/revenue/rules.json").path
    static let events = TestPaths.file("fixtures/revenue/events.csv").path

    @Test("writes the five files; rejected rows give exit 1 unless --allow-rejects")
    func files() throws {
        let out = try TestPaths.temporaryDirectory()
        let first = try FodCLI.run(["report", "--events", Self.events, "--rules", Self.rules, "--period", "2026-11", "--out", out.path])
        #expect(first.status == 1 && first.stderr.contains("12 rows were rejected"))
        for name in ["statements.csv", "lines.csv", "report.json", "rejects.csv", "report.html"] {
            let written = try Data(contentsOf: out.appendingPathComponent(name))
            let expected = try Data(contentsOf: TestPaths.file("fixtures/revenue/expected/\(name)"))
            #expect(written == expected, "\(name) differs from fixtures/revenue/expected")
        }
        let allowed = try FodCLI.run(["report", "--events", Self.events, "--rules", Self.rules, "--period", "2026-11", "--out", out.path, "--allow-rejects"])
        #expect(allowed.status == 0)
    }

    @Test("bad input exits 2 with a message that names the problem")
    func badInput() throws {
        let dir = try TestPaths.temporaryDirectory()
        let badRules = dir.appendingPathComponent("rules.json")
        try #"{"version":"x","clawback_days":14,"rules":[{"id":"pos","channel":"dealer","share_bps":1000}]}"#.write(to: badRules, atomically: true, encoding: .utf8)
        let rules = try FodCLI.run(["report", "--events", Self.events, "--rules", badRules.path, "--period", "2026-11", "--out", dir.path])
        #expect(rules.status == 2 && rules.stderr.contains("rules_invalid") && rules.stderr.contains("\"pos\""))
        let missing = try FodCLI.run(["report", "--events", "/nonexistent.csv", "--rules", Self.rules, "--period", "2026-11", "--out", dir.path])
        #expect(missing.status == 2 && missing.stderr.contains("cannot read"))
        let period = try FodCLI.run(["report", "--events", Self.events, "--rules", Self.rules, "--period", "November", "--out", dir.path])
        #expect(period.status == 2 && period.stderr.contains("YYYY-MM"))
        let header = dir.appendingPathComponent("events.csv")
        try "id,when\n1,2\n".write(to: header, atomically: true, encoding: .utf8)
        let badHeader = try FodCLI.run(["report", "--events", header.path, "--rules", Self.rules, "--period", "2026-11", "--out", dir.path])
        #expect(badHeader.status == 2 && badHeader.stderr.contains("unknown column \"id\""))
    }

    @Test("fod gen is deterministic, and DuckDB computes the same statements to the cent")
    func agreesWithDuckDB() throws {
        let dir = try TestPaths.temporaryDirectory()
        let events = dir.appendingPathComponent("events.csv").path
        let again = dir.appendingPathComponent("again.csv").path
        #expect(try FodCLI.run(["gen", "events", "--rows", "60000", "--seed", "4", "--out", events]).status == 0)
        #expect(try FodCLI.run(["gen", "events", "--rows", "60000", "--seed", "4", "--out", again]).status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: events)) == Data(contentsOf: URL(fileURLWithPath: again)))
        for (file, period) in [(events, "2026-08"), (Self.events, "2026-11")] {
            let out = dir.appendingPathComponent("report-\(period)")
            let report = try FodCLI.run(["report", "--events", file, "--rules", Self.rules, "--period", period, "--out", out.path, "--allow-rejects"])
            #expect(report.status == 0, "\(report.stderr)")
            let reference = dir.appendingPathComponent("duckdb-\(period).csv").path
            let duck = try ProcessRunner.run("python3", [TestPaths.file("scripts/duckdb_statements.py").path, file, Self.rules, period, reference])
            try #require(duck.status == 0, "DuckDB reference failed (pip install duckdb): \(duck.stderr)")
            let ours = try String(contentsOf: out.appendingPathComponent("statements.csv"), encoding: .utf8)
            let theirs = try String(contentsOfFile: reference, encoding: .utf8)
            #expect(ours == theirs)
            #expect(ours.split(separator: "\n").count > 2)
        }
    }
}
