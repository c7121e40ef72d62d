import FoDTestSupport
import Foundation
import Testing

/// `fod close`, `fod credit-notes`, `fod statement verify` and `fod report --book-extract` against a
/// service's database.
@Suite("fod close and the credit notes")
struct PeriodCLITests {
    @Test("a month closes from the command line; its credit notes pass EN 16931; its signed statement verifies against the JWKS and fails once changed; the book extract lists the lines")
    func closeAndCheck() throws {
        let server = try DealerCLITests.Server()
        let issuer = try server.key(role: "issuer")
        var ids: [String] = []
        // The customer acknowledged the early start just before the purchase (as the shop records it).
        let acknowledged = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-60))
        for (index, vin) in ["WAUZZZF45RA000001", "WAUZZZFY7P2000002"].enumerated() {
            let (bought, body) = try ServeStartTests.request("\(server.url)/v1/purchases", key: issuer, method: "POST", body: #"""
                {"vin":"\#(vin)","feature":"NAV_PLUS","term":"P1Y","channel":"online","order_id":"P-\#(index)","gross_minor":14900,"currency":"EUR","consent":{"terms_version":"t1","immediate_start":true,"acknowledged_at":"\#(acknowledged)"}}
                """#)
            try #require(bought == 201, "\(String(decoding: body, as: UTF8.self))")
            ids.append((try JSONSerialization.jsonObject(with: body) as? [String: Any])?["id"] as? String ?? "")
        }
        let (status, jwks) = try ServeStartTests.request("\(server.url)/.well-known/jwks.json", key: nil, method: "GET", body: nil)
        try #require(status == 200)
        server.stop()
        let folder = try TestPaths.temporaryDirectory()
        let jwksFile = folder.appendingPathComponent("jwks.json")
        try Data(jwks).write(to: jwksFile)

        let now = Date()
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let period = String(format: "%04d-%02d", calendar.component(.year, from: now), calendar.component(.month, from: now))
        let next = calendar.date(byAdding: .month, value: 1, to: calendar.date(from: calendar.dateComponents([.year, .month], from: now))!)!
        let at = ISO8601DateFormatter().string(from: next.addingTimeInterval(60))

        let early = try FodCLI.run(["close", "--dev", "--data", server.data.path, "--period", period], directory: TestPaths.repository)
        #expect(early.status == 2 && early.stderr.contains("period_not_closable"), "\(early.stderr)")
        let closed = try FodCLI.run(["close", "--dev", "--data", server.data.path, "--period", period, "--at", at], directory: TestPaths.repository)
        #expect(closed.status == 0, "\(closed.stderr)")
        #expect(closed.stdout.contains("-000001 credit_note DE-10001") && closed.stdout.contains("-000002 credit_note DE-10002"), "\(closed.stdout)")
        let again = try FodCLI.run(["close", "--dev", "--data", server.data.path, "--period", period, "--at", at], directory: TestPaths.repository)
        #expect(again.stdout == closed.stdout, "closing again prints the first close")

        let out = folder.appendingPathComponent("out")
        let written = try FodCLI.run(["credit-notes", "--data", server.data.path, "--period", period, "--out", out.path], directory: TestPaths.repository)
        #expect(written.status == 0, "\(written.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        let xml = files.filter { $0.hasSuffix(".xml") }.map { out.appendingPathComponent($0).path }
        #expect(xml.count == 2 && files.filter { $0.hasSuffix(".html") }.count == 2, "\(files)")
        let validated = try ProcessRunner.run("python3", [TestPaths.file("scripts/validators/validate-cii.py").path] + xml)
        #expect(validated.status == 0, "\(validated.stdout)")

        let statement = out.appendingPathComponent("statement-\(period).json")
        let verified = try FodCLI.run(["statement", "verify", statement.path, "--jwks", jwksFile.path])
        #expect(verified.status == 0 && verified.stdout.hasPrefix("valid: \(period)"), "\(verified.stdout) \(verified.stderr)")
        var text = try String(contentsOf: statement, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"payable\" : ", with: "\"payable\" : 9")
        try text.write(to: statement, atomically: true, encoding: .utf8)
        let tampered = try FodCLI.run(["statement", "verify", statement.path, "--jwks", jwksFile.path])
        #expect(tampered.status == 1 && tampered.stderr.contains("signature_invalid"), "\(tampered.stdout) \(tampered.stderr)")

        let extract = try FodCLI.run(["report", "--book-extract", "--dealer", "DE-10001", "--from", period, "--to", period, "--db", server.data.path],
                                     directory: TestPaths.repository)
        #expect(extract.status == 0, "\(extract.stderr)")
        let rows = extract.stdout.split(separator: "\n")
        #expect(rows.count == 2 && rows[0].hasPrefix("period,kind,event_id,entitlement_id") && rows[1].contains(ids[0]), "\(extract.stdout)")
        let audit = try FodCLI.run(["audit", "verify", "--data", server.data.path])
        #expect(audit.status == 0, "\(audit.stdout) \(audit.stderr)")
    }
}
