import FoDCore
import Foundation
import FoDCrypto
import FoDEntitlements
import FoDStore
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
        let piped = try FodCLI.run(["report", "--events", "/dev/stdin", "--rules", Self.rules, "--period", "2026-11", "--out", dir.path],
                                   input: try String(contentsOfFile: Self.events, encoding: .utf8))
        #expect(piped.status == 2 && piped.stderr.contains("not a regular file"), "\(piped.stderr)")
        let period = try FodCLI.run(["report", "--events", Self.events, "--rules", Self.rules, "--period", "November", "--out", dir.path])
        #expect(period.status == 2 && period.stderr.contains("YYYY-MM"))
        let header = dir.appendingPathComponent("events.csv")
        try "id,when\n1,2\n".write(to: header, atomically: true, encoding: .utf8)
        let badHeader = try FodCLI.run(["report", "--events", header.path, "--rules", Self.rules, "--period", "2026-11", "--out", dir.path])
        #expect(badHeader.status == 2 && badHeader.stderr.contains("unknown column \"id\""))
    }

    @Test("--memory-limit takes sizes from 64MB up and --temp-dir must be a writable folder")
    func memoryOptions() throws {
        let dir = try TestPaths.temporaryDirectory()
        let base = ["report", "--events", Self.events, "--rules", Self.rules, "--period", "2026-11", "--out", dir.path, "--allow-rejects"]
        for size in ["64MB", "1GiB", "2g", "536870912"] {
            let run = try FodCLI.run(base + ["--memory-limit", size])
            #expect(run.status == 0, "\(size): \(run.stderr)")
        }
        for size in ["63MB", "512XB", "-5", "lots", "99999999999999999999"] {
            let run = try FodCLI.run(base + ["--memory-limit", size])
            #expect(run.status == 64, "\(size) was taken: \(run.stderr)")
        }
        let notFolder = try FodCLI.run(base + ["--temp-dir", Self.events])
        #expect(notFolder.status == 2 && notFolder.stderr.contains("option_invalid") && notFolder.stderr.contains("--temp-dir"), "\(notFolder.stderr)")
        #expect(try FodCLI.run(base + ["--temp-dir", dir.path]).status == 0)
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
            try #require(duck.status == 0, "DuckDB reference failed: \(duck.diagnosis)")
            let ours = try String(contentsOf: out.appendingPathComponent("statements.csv"), encoding: .utf8)
            let theirs = try String(contentsOfFile: reference, encoding: .utf8)
            #expect(ours == theirs)
            #expect(ours.split(separator: "\n").count > 2)
        }
    }
}

extension ReportCLITests {
    @Test("DuckDB recomputes every share of lines.csv from its own columns; the three id shapes of fod gen give the same statements")
    func linesRecomputeAndIDShapes() throws {
        let dir = try TestPaths.temporaryDirectory()
        var statements: [String] = []
        for shape in ["counter", "padded", "uuid7"] {
            let events = dir.appendingPathComponent("events-\(shape).csv").path
            #expect(try FodCLI.run(["gen", "events", "--rows", "30000", "--seed", "6", "--ids", shape, "--out", events]).status == 0)
            let out = dir.appendingPathComponent("report-\(shape)")
            let report = try FodCLI.run(["report", "--events", events, "--rules", Self.rules, "--period", "2026-05", "--out", out.path, "--allow-rejects"])
            #expect(report.status == 0, "\(report.stderr)")
            statements.append(try String(contentsOf: out.appendingPathComponent("statements.csv"), encoding: .utf8))
            let check = try ProcessRunner.run("python3", [TestPaths.file("scripts/interop/recompute_lines.py").path, out.appendingPathComponent("lines.csv").path])
            #expect(check.status == 0, "\(check.stdout) \(check.diagnosis)")
        }
        #expect(Set(statements).count == 1)
        #expect(statements[0].split(separator: "\n").count > 10)
        let fixture = try ProcessRunner.run("python3", [TestPaths.file("scripts/interop/recompute_lines.py").path,
                                                        TestPaths.file("fixtures/revenue/expected/lines.csv").path])
        #expect(fixture.status == 0, "\(fixture.stdout) \(fixture.diagnosis)")
        // A wrong figure is found.
        let broken = dir.appendingPathComponent("broken.csv")
        let text = try String(contentsOf: TestPaths.file("fixtures/revenue/expected/lines.csv"), encoding: .utf8)
        try text.replacingOccurrences(of: ",17.03,108.18,", with: ",17.04,108.18,").write(to: broken, atomically: true, encoding: .utf8)
        let refused = try ProcessRunner.run("python3", [TestPaths.file("scripts/interop/recompute_lines.py").path, broken.path])
        #expect(refused.status == 1 && refused.stdout.contains("\"share_mismatches\": 1"))
    }
}

@Suite("fod report --db and fod audit verify on a service database")
struct DatabaseCLITests {
    @Test("report --db reads the service's events; audit verify passes, then fails after tampering")
    func reportFromDatabase() async throws {
        let dir = try TestPaths.temporaryDirectory()
        let path = dir.appendingPathComponent("fod.sqlite").path
        let database = try SQLiteStore(path: path)
        let now = Int64(Timestamp2026.november15)
        let key = try PrivateKey.generate(.es256)
        let issuer = Issuer(key: key, issuer: try IssuerID("https://fod.test"), clock: FixedClock(unixSeconds: now))
        // Keys and vehicles name known dealers only: the demo master data first.
        try await database.importFixtures(dealers: try String(contentsOf: TestPaths.file("fixtures/dealers.json"), encoding: .utf8),
                                    vehicles: try String(contentsOf: TestPaths.file("fixtures/vehicles.json"), encoding: .utf8),
                                    catalog: try String(contentsOf: TestPaths.file("fixtures/catalog.json"), encoding: .utf8), actor: "test", at: now)
        let dealer = try await database.createAPIKey(role: .dealer, dealer: try DealerID("DE-10001"), label: "d", actor: "test", at: now)
        let principal = try #require(try await database.authenticate(secret: dealer.secret, at: now))
        for (index, vin) in ["WVWZZZ1KZAW394821", "WAUZZZF45RA000001"].enumerated() {
            let issued = try issuer.issue(EntitlementRequest(vin: try VIN(vin), feature: try FeatureCode("NAV_PLUS"), term: .oneYear, dealer: principal.dealer))
            let record = ActivationRecord(activation: NewActivation(entitlement: issued, channel: "dealer", market: try Market("DE"), gross: Money(minor: 14_900, try Currency("EUR")), vat: try BasisPoints(1900)),
                                          principal: principal, idempotencyKey: "k\(index)", requestHash: "h\(index)",
                                          response: IdempotentResponse(status: 201, body: []))
            _ = try await database.recordActivations([record], at: now)[0].get()
        }
        let out = dir.appendingPathComponent("report")
        let result = try FodCLI.run(["report", "--db", dir.path, "--rules", ReportCLITests.rules, "--period", "2026-11", "--out", out.path])
        #expect(result.status == 0, "\(result.stderr)")
        let statements = try String(contentsOf: out.appendingPathComponent("statements.csv"), encoding: .utf8)
        // Two sales of 149.00 under pos-nav: 2 × 17.03.
        #expect(statements.contains("DE-10001,EUR,2,0,298.00,47.58,250.42,34.06,0.00,34.06,0"), "\(statements)")
        let intact = try FodCLI.run(["audit", "verify", "--data", dir.path])
        #expect(intact.status == 0 && intact.stdout.contains("intact"))
        let deleted = try ProcessRunner.run("python3", ["-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('DELETE FROM audit WHERE seq = 2'); c.commit()", path])
        try #require(deleted.status == 0, "\(deleted.diagnosis)")
        let broken = try FodCLI.run(["audit", "verify", "--data", dir.path])
        #expect(broken.status == 1 && broken.stderr.contains("audit_chain_broken") && broken.stderr.contains("entry 2"))
    }
}

/// A fixed instant in the report period used above: 2026-11-15T12:00:00Z.
enum Timestamp2026 {
    static let november15 = 1_794_744_000
}
