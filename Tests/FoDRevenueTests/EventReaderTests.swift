import FoDCore
import FoDRevenue
import Foundation
import Testing

@Suite("Events readers")
struct EventReaderTests {
    static let good = "a1,2026-04-10T10:00:00Z,activation,,WVWZZZ1KZAW394821,ACC,P1M,dealer,D1,DE,EUR,1190,1900"

    @Test("RFC 4180: quoted fields with commas, doubled quotes and line breaks; CRLF; a BOM; blank lines; no final newline")
    func quoting() throws {
        let csv = "\u{FEFF}" + ReportRun.header.replacingOccurrences(of: "\n", with: "\r\n")
            + "\"a,1\",2026-04-10T10:00:00Z,activation,,WVWZZZ1KZAW394821,ACC,P1M,dealer,\"D1\",DE,EUR,1190,1900\r\n"
            + "\r\n"
            + "\"q\"\"2\",2026-04-11T10:00:00Z,activation,,WVWZZZ1KZAW394821,ACC,P1M,dealer,D2,DE,EUR,1190,1900\n"
            + "\"bad\nid\",2026-04-11T10:00:00Z,activation,,WVWZZZ1KZAW394821,ACC,P1M,dealer,D2,DE,EUR,1190,1900\n"
            + "a3,2026-04-12T10:00:00Z,activation,,WVWZZZ1KZAW394821,ACC,P1M,dealer,D2,DE,EUR,1190,1900"
        for pipelined in [false, true] {
            let output = try ReportRun.run(csv: csv, rules: ReportRun.fixtureRules, period: "2026-04", pipelined: pipelined)
            // The id with a line break is read whole (one row, its physical line) and refused for the control character.
            #expect(output.rejects.map(\.line) == [5], "\(output.rejects)")
            #expect(output.rejects.first?.reason.contains("control character") == true)
            #expect(output.report.counts.used == 3)
            #expect(Set((try output.report.lines.collect()).map(\.eventID)) == ["a,1", "q\"2", "a3"])
            #expect(output.report.statements.map(\.dealerID) == ["D1", "D2"])
            #expect(output.lines.contains("\"a,1\"") && output.lines.contains("\"q\"\"2\""))
            #expect((try output.report.lines.collect()).first { $0.eventID == "a3" }.map { $0.occurredAt } == Timestamp.parse("2026-04-12T10:00:00Z"))
        }
    }

    @Test("line numbers count physical lines, also inside quoted fields")
    func lineNumbers() throws {
        let csv = ReportRun.header + "\"x\n\ny\",2026-04-10T10:00:00Z,activation,,WVWZZZ1KZAW394821,ACC,P1M,dealer,D1,DE,EUR,1,1900\n"
            + "bad,2026-04-10,activation,,WVWZZZ1KZAW394821,ACC,P1M,dealer,D1,DE,EUR,1,1900\n"
        let output = try ReportRun.run(csv: csv, rules: ReportRun.fixtureRules, period: "2026-04")
        #expect(output.rejects.map(\.line) == [2, 5])
        #expect(output.rejects.map(\.code) == [.fieldInvalid, .timestampInvalid])
    }

    @Test("rows that are not CSV are rejected with their line, and reading goes on", arguments: [
        ("a1,2026-04-10T10:00:00Z,activation,,WVWZZZ1KZAW394821,ACC,P1M,dealer,D1,DE,EUR,1190", "has 12 fields"),
        ("a1,2026-04-10T10:00:00Z,activation,,WVWZZZ1KZAW394821,ACC,P1M,dealer,D1,DE,EUR,1190,1900,extra", "has 14 fields"),
        ("a\"1,2026-04-10T10:00:00Z,activation,,WVWZZZ1KZAW394821,ACC,P1M,dealer,D1,DE,EUR,1190,1900", "a quote inside an unquoted field"),
        ("\"a1\"x,2026-04-10T10:00:00Z,activation,,WVWZZZ1KZAW394821,ACC,P1M,dealer,D1,DE,EUR,1190,1900", "after a quoted field"),
    ])
    func malformedRows(row: String, message: String) throws {
        let csv = ReportRun.header + row + "\n" + EventReaderTests.good + "\n"
        let output = try ReportRun.run(csv: csv, rules: ReportRun.fixtureRules, period: "2026-04")
        #expect(output.rejects.count == 1)
        #expect(output.rejects.first?.code == .rowMalformed && output.rejects.first?.line == 2)
        #expect(output.rejects.first?.reason.contains(message) == true, "\(output.rejects)")
        #expect(output.report.counts.used == 1)
    }

    @Test("an unterminated quoted field at the end of the file is rejected, not lost")
    func cutOff() throws {
        let csv = ReportRun.header + EventReaderTests.good + "\n\"a2,2026-04-10T10:00:00Z"
        let output = try ReportRun.run(csv: csv, rules: ReportRun.fixtureRules, period: "2026-04")
        #expect(output.rejects.map(\.code) == [.rowMalformed])
        #expect(output.report.counts.rowsRead == 2)
    }

    @Test("a bad header stops the report with a clear error", arguments: [
        ("", "empty"), ("event_id,occurred_at\n", "lacks kind"),
        (ReportRun.header.replacingOccurrences(of: "vat_bps", with: "vat"), "unknown column \"vat\""),
        (ReportRun.header.replacingOccurrences(of: "vat_bps", with: "market"), "appears twice"),
    ])
    func header(text: String, message: String) {
        do {
            _ = try ReportRun.run(csv: text, rules: ReportRun.fixtureRules, period: "2026-04")
            Issue.record("accepted")
        } catch let error as RevenueError {
            #expect(error.code == .eventsInvalid && error.reason.contains(message), "\(error)")
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test("columns may come in any order")
    func columnOrder() throws {
        let names = ReportRun.header.dropLast().split(separator: ",").map(String.init)
        let values = EventReaderTests.good.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let order = Array(names.indices.reversed())
        let csv = order.map { names[$0] }.joined(separator: ",") + "\n" + order.map { values[$0] }.joined(separator: ",") + "\n"
        let output = try ReportRun.run(csv: csv, rules: ReportRun.fixtureRules, period: "2026-04")
        #expect(output.rejects.isEmpty && output.report.counts.used == 1)
    }

    @Test("JSON Lines give the same report as the CSV")
    func jsonLines() throws {
        let csv = try ReportRun.generated(rows: 5_000, seed: 3)
        let jsonl = ReportRun.jsonLines(fromCSV: csv)
        let fromCSV = try ReportRun.run(csv: csv, rules: ReportRun.fixtureRules, period: "2026-06")
        let fromJSON = try ReportRun.runJSONLines(jsonl, rules: ReportRun.fixtureRules, period: "2026-06")
        #expect(fromJSON.statements == fromCSV.statements)
        #expect(fromJSON.lines == fromCSV.lines)
        #expect(fromJSON.rejects.map(\.line) == fromCSV.rejects.map { $0.line - 1 })
        let bad = try ReportRun.runJSONLines("{\"event_id\":1}\nnot json\n{\"colour\":\"red\"}\n", rules: ReportRun.fixtureRules, period: "2026-06")
        #expect(bad.rejects.map(\.code) == [.rowMalformed, .rowMalformed, .rowMalformed])
    }
}
