import FoDTestSupport
import Foundation
import Testing

/// `fod renew` against a service's database, killed in the middle of a run.
@Suite("fod renew")
struct RenewCLITests {
    @Test("kill -9 in the middle of a run loses nothing and books nothing twice: the next run books the rest")
    func killedRun() throws {
        let server = try DealerCLITests.Server()
        let issuer = try server.key(role: "issuer")
        let count = 300
        var ends: Int64 = 0
        for index in 0..<count {
            let vin = String(format: "WAUZZZF4%09d", index)
            let (registered, _) = try ServeStartTests.request("\(server.url)/v1/vehicles", key: issuer, method: "POST", body: #"""
                {"vin":"\#(vin)","model":"A6","model_year":2025,"market":"DE","equipment":[],"dealer_id":"DE-10001"}
                """#)
            try #require(registered == 201)
            let (bought, body) = try ServeStartTests.request("\(server.url)/v1/purchases", key: issuer, method: "POST", body: #"""
                {"vin":"\#(vin)","feature":"ACC","term":"subscription","channel":"online","order_id":"R-\#(index)","gross_minor":2499,"currency":"EUR","consent":{"terms_version":"t1","immediate_start":false}}
                """#)
            try #require(bought == 201, "\(String(decoding: body, as: UTF8.self))")
            ends = max(ends, (try JSONSerialization.jsonObject(with: body) as? [String: Any])?["expires_at"] as? Int64 ?? 0)
        }
        server.stop()
        let at = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(ends - 86_400)))
        let arguments = ["renew", "--dev", "--data", server.data.path, "--at", at]

        // Killed a moment after it started: whatever it booked is whole.
        let killed = Process()
        killed.executableURL = TestPaths.fodBinary
        killed.arguments = arguments
        killed.currentDirectoryURL = TestPaths.repository
        killed.standardOutput = FileHandle.nullDevice
        killed.standardError = FileHandle.nullDevice
        try killed.run()
        // Killed once it has booked some (the renewal table has rows), before it is through.
        let database = server.data.appendingPathComponent("fod.sqlite").path
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let booked = try ProcessRunner.run("python3", ["-c", "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM renewal').fetchone()[0])", database])
            if (Int(booked.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) > 0 { break }
            Thread.sleep(forTimeInterval: 0.01)
        }
        kill(killed.processIdentifier, SIGKILL)
        killed.waitUntilExit()
        #expect(killed.terminationReason == .uncaughtSignal, "the run was killed, not finished")

        let rest = try FodCLI.run(arguments, directory: TestPaths.repository)
        #expect(rest.status == 0, "\(rest.stderr)")
        let restCount = Int(rest.stdout.split(separator: " ").dropFirst().first?.trimmingCharacters(in: .punctuationCharacters) ?? "") ?? -1
        #expect(restCount > 0 && restCount < count, "the second run booked the rest: \(rest.stdout)")
        let again = try FodCLI.run(arguments, directory: TestPaths.repository)
        #expect(again.stdout.hasPrefix("renewed 0,"), "\(again.stdout)")
        let counted = try ProcessRunner.run("python3", ["-c", """
            import sqlite3, sys
            c = sqlite3.connect(sys.argv[1])
            print(c.execute("SELECT count(*) FROM renewal").fetchone()[0], c.execute("SELECT count(*) FROM event WHERE kind = 'activation'").fetchone()[0],
                  c.execute("SELECT count(DISTINCT previous_id) FROM renewal").fetchone()[0],
                  c.execute("SELECT count(*) FROM entitlement e JOIN renewal r ON r.next_id = e.id JOIN event v ON v.entitlement_id = e.id").fetchone()[0])
            """, database])
        #expect(counted.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "\(count) \(2 * count) \(count) \(count)",
                "renewals, activation events, renewed periods, renewals with their entitlement and event: \(counted.stdout) (\(rest.stdout))")
        let audit = try FodCLI.run(["audit", "verify", "--data", server.data.path])
        #expect(audit.status == 0, "\(audit.stdout) \(audit.stderr)")
    }
}
