import FoDCore
import FoDCrypto
import FoDEntitlements

/// The report's files as bytes, exactly as `fod report` writes them. The same report gives the
/// same bytes: nothing depends on the clock, the machine or hash-table order.
public enum ReportFiles {
    /// `statements.csv` columns.
    public static let statementColumns = ["dealer_id", "currency", "activations", "clawbacks", "gross", "vat", "net", "share", "clawback", "payable", "tier_bonus_bps"]
    /// `lines.csv` columns.
    public static let lineColumns = LineColumn.allCases.map(\.rawValue)
    /// `rejects.csv` columns.
    public static let rejectColumns = ["line", "event_id", "code", "reason"]

    /// `statements.csv`: one row per (dealer, currency), amounts with the currency's decimals.
    public static func statementsCSV(_ report: Report) -> [UInt8] {
        var csv = CSVWriter()
        csv.row(statementColumns)
        for s in report.statements {
            let c = s.currency
            csv.row([s.dealerID, c.code, String(s.activations), String(s.clawbacks), c.format(minor: s.gross), c.format(minor: s.vat),
                     c.format(minor: s.net), c.format(minor: s.share), c.format(minor: s.clawback), c.format(minor: s.payable), String(s.tierBonusBps)])
        }
        return csv.bytes
    }

    /// `lines.csv`, the book extract, handed to `write` in blocks of about 1 MiB.
    /// - Throws: what `write` throws; ``RevenueError`` `spill_failed` when the lines beyond the
    ///   memory limit cannot be read back from the temporary file.
    public static func linesCSV(_ report: Report, write: ([UInt8]) throws -> Void) throws {
        var csv = CSVWriter()
        csv.row(lineColumns)
        var out = csv.take()
        out.reserveCapacity(1 << 20 + 4096)
        let encoder = LinesCSVEncoder(report.lines)
        try report.lines.forEachEntry { entry, bytes in
            try encoder.append(entry, bytes, to: &out)
            if out.count >= 1 << 20 {
                try write(out)
                out.removeAll(keepingCapacity: true)
            }
        }
        try write(out)
    }

    /// The header row of `rejects.csv`.
    public static func rejectsHeader() -> [UInt8] {
        var csv = CSVWriter()
        csv.row(rejectColumns)
        return csv.bytes
    }

    /// One row of `rejects.csv`.
    public static func rejectRow(_ row: RejectedRow) -> [UInt8] {
        var csv = CSVWriter(capacity: 256)
        csv.row([String(row.line), row.eventID, row.code.rawValue, row.reason])
        return csv.bytes
    }

    /// `report.json`: statements, totals per currency, counts, the rules version, the period and
    /// the input's SHA-256, amounts in minor units.
    public static func reportJSON(_ report: Report, inputSHA256: String) -> [UInt8] {
        func int(_ value: Int64) -> JSONValue { .number(String(value)) }
        func object(_ members: [(String, JSONValue)]) -> JSONValue {
            .object(JSONObject(members: members.map { JSONObject.Member(name: $0.0, value: $0.1) }))
        }
        let statements = report.statements.map { s in
            object([("dealer_id", .string(s.dealerID)), ("currency", .string(s.currency.code)), ("activations", int(s.activations)),
                    ("clawbacks", int(s.clawbacks)), ("gross", int(s.gross)), ("vat", int(s.vat)), ("net", int(s.net)), ("share", int(s.share)),
                    ("clawback", int(s.clawback)), ("payable", int(s.payable)), ("tier_bonus_bps", int(s.tierBonusBps))])
        }
        let totals = report.totals.map { t in
            object([("currency", .string(t.currency.code)), ("exponent", int(Int64(t.currency.exponent))), ("activations", int(t.activations)),
                    ("clawbacks", int(t.clawbacks)), ("gross", int(t.gross)), ("vat", int(t.vat)), ("net", int(t.net)), ("share", int(t.share)),
                    ("clawback", int(t.clawback)), ("payable", int(t.payable)), ("oem", int(t.oem))])
        }
        let counts = report.counts
        let root = object([
            ("period", .string(report.period.description)), ("timezone", .string(report.period.timeZone)),
            ("rules_version", .string(report.rulesVersion)), ("clawback_days", int(report.clawbackDays)),
            ("input_sha256", .string(inputSHA256)), ("amounts", .string("minor units")),
            ("counts", object([("rows_read", int(counts.rowsRead)), ("used", int(counts.used)), ("outside_period", int(counts.outsidePeriod)),
                               ("rejected", int(counts.rejected)), ("late_refunds", int(counts.lateRefunds))])),
            ("totals", .array(totals)),
            ("statements", .array(statements)),
        ])
        var writer = JSONWriter(capacity: 4096)
        writer.value(root, indent: 2)
        writer.raw("\n")
        return writer.bytes
    }
}
