import FoDCore
import FoDEntitlements

/// The columns of `lines.csv`, in order: the header (``ReportFiles/lineColumns``) and the row
/// writer (``LinesCSVEncoder``) both come from this one list.
public enum LineColumn: String, CaseIterable, Sendable {
    case kind
    case eventID = "event_id"
    case refersTo = "refers_to"
    case occurredAt = "occurred_at"
    case dealerID = "dealer_id"
    case vin, feature, term, channel, market, currency, gross
    case vatBps = "vat_bps"
    case vat, net
    case ruleID = "rule_id"
    case rateBps = "rate_bps"
    case share, oem, decimals, basis, fixed, cap
    /// The plan and the version of it that priced the line.
    case plan
    case planVersion = "plan_version"

    /// Every column in file order.
    static let ordered = allCases
}

/// Writes `lines.csv` rows straight from the report's compact records into bytes, without
/// building a ``ReportLine`` and its strings per row (that took most of a 10M-row report's
/// output time). Produces exactly what ``ReportFiles`` would produce from the ``ReportLine``s.
struct LinesCSVEncoder {
    let lines: ReportLines
    private let dealers: [[UInt8]]
    private let features: [[UInt8]]
    private let markets: [[UInt8]]
    private let terms: [[UInt8]]
    private let channels: [[UInt8]]
    private let ruleIDs: [[UInt8]]
    private let currencyCodes: [[UInt8]]
    private let planIDs: [[UInt8]]
    private let planVersions: [[UInt8]]

    init(_ lines: ReportLines) {
        self.lines = lines
        let strings = lines.strings
        dealers = strings.dealers.map(CSVWriter.field)
        features = strings.features.map(CSVWriter.field)
        markets = strings.markets.map(CSVWriter.field)
        terms = strings.terms.map(CSVWriter.field)
        channels = strings.channels.map(CSVWriter.field)
        ruleIDs = strings.ruleIDs.map(CSVWriter.field)
        currencyCodes = strings.currencies.map { Array($0.code.utf8) }
        planIDs = strings.rulePlans.map(CSVWriter.field)
        planVersions = strings.rulePlanVersions.map(CSVWriter.field)
    }

    /// Appends the row of a line (its strings in `bytes`): its fields in ``LineColumn`` order.
    func append(_ entry: LineEntry, _ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) throws {
        let saleKind = lines.strings.saleKinds[Int(entry.saleKind)]
        let allocation = try lines.allocation(entry)
        let start = Int(entry.bytesOffset), idLength = Int(entry.eventIDLength), refersLength = Int(entry.refersToLength)
        let isClawback = entry.isClawback
        let exponent = lines.strings.currencies[Int(saleKind.currency)].exponent
        for (index, column) in LineColumn.ordered.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            switch column {
            case .kind: out.append(contentsOf: isClawback ? "clawback".utf8 : "activation".utf8)
            case .eventID: append(field: UnsafeRawBufferPointer(rebasing: bytes[start..<(start + idLength)]), to: &out)
            case .refersTo: append(field: UnsafeRawBufferPointer(rebasing: bytes[(start + idLength)..<(start + idLength + refersLength)]), to: &out)
            case .occurredAt: appendTimestamp(entry.time, digits: lines.timestampDigits, to: &out)
            case .dealerID: if entry.dealer >= 0 { out.append(contentsOf: dealers[Int(entry.dealer)]) }
            case .vin: out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[(start + idLength + refersLength)..<(start + idLength + refersLength + 17)]))
            case .feature: out.append(contentsOf: features[Int(saleKind.feature)])
            case .term: out.append(contentsOf: terms[Int(saleKind.term)])
            case .channel: out.append(contentsOf: channels[Int(saleKind.channel)])
            case .market: out.append(contentsOf: markets[Int(saleKind.market)])
            case .currency: out.append(contentsOf: currencyCodes[Int(saleKind.currency)])
            case .gross: appendAmount(isClawback ? 0 : entry.gross, exponent, to: &out)
            case .vatBps: appendInteger(Int64(saleKind.vatBps), to: &out)
            case .vat: appendAmount(isClawback ? 0 : allocation.vat, exponent, to: &out)
            case .net: appendAmount(isClawback ? 0 : allocation.net, exponent, to: &out)
            case .ruleID: out.append(contentsOf: ruleIDs[Int(entry.rule)])
            case .rateBps: appendInteger(allocation.rateBps, to: &out)
            case .share: appendAmount(isClawback ? -allocation.share : allocation.share, exponent, to: &out)
            case .oem: appendAmount(isClawback ? allocation.share : allocation.oem, exponent, to: &out)
            // What the share was computed from, so the file can be recomputed on its own (see ReportLine).
            case .decimals: appendInteger(Int64(exponent), to: &out)
            case .basis: appendAmount(allocation.net, exponent, to: &out)
            case .fixed: appendAmount(lines.strings.ruleFixed[Int(entry.rule)], exponent, to: &out)
            case .cap: if let cap = lines.strings.ruleCaps[Int(entry.rule)] { appendAmount(cap, exponent, to: &out) }
            case .plan: out.append(contentsOf: planIDs[Int(entry.rule)])
            case .planVersion: out.append(contentsOf: planVersions[Int(entry.rule)])
            }
        }
        out.append(0x0A)
    }

    @inline(__always)
    private func append(field bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) { CSVWriter.append(field: bytes, to: &out) }

    private func appendInteger(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        appendDigits(value.magnitude, minimumWidth: 1, to: &out)
    }

    /// Minor units with exactly `exponent` decimals, as ``Currency/format(minor:)`` writes them.
    private func appendAmount(_ minor: Int64, _ exponent: Int, to out: inout [UInt8]) {
        if minor < 0 { out.append(UInt8(ascii: "-")) }
        let magnitude = minor.magnitude
        guard exponent > 0 else { appendDigits(magnitude, minimumWidth: 1, to: &out); return }
        var scale: UInt64 = 1
        for _ in 0..<exponent { scale *= 10 }
        appendDigits(magnitude / scale, minimumWidth: 1, to: &out)
        out.append(UInt8(ascii: "."))
        appendDigits(magnitude % scale, minimumWidth: exponent, to: &out)
    }

    private func appendDigits(_ value: UInt64, minimumWidth: Int, to out: inout [UInt8]) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[count] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
                count += 1
            } while rest > 0
            while count < minimumWidth { buffer[count] = UInt8(ascii: "0"); count += 1 }
            for offset in stride(from: count - 1, through: 0, by: -1) { out.append(buffer[offset]) }
        }
    }

    /// RFC 3339 in UTC with exactly `digits` decimals of the second (the file's one precision).
    private func appendTimestamp(_ nanoseconds: Int64, digits: Int, to out: inout [UInt8]) {
        let seconds = Timestamp.seconds(nanoseconds)
        let nanos = nanoseconds - seconds * 1_000_000_000
        let date = CivilDate(unixSeconds: seconds)
        if date.year < 0 { out.append(UInt8(ascii: "-")) }
        appendDigits(date.year.magnitude, minimumWidth: 4, to: &out)
        out.append(UInt8(ascii: "-")); appendDigits(UInt64(date.month), minimumWidth: 2, to: &out)
        out.append(UInt8(ascii: "-")); appendDigits(UInt64(date.day), minimumWidth: 2, to: &out)
        out.append(UInt8(ascii: "T")); appendDigits(UInt64(date.secondOfDay / 3600), minimumWidth: 2, to: &out)
        out.append(UInt8(ascii: ":")); appendDigits(UInt64(date.secondOfDay / 60 % 60), minimumWidth: 2, to: &out)
        out.append(UInt8(ascii: ":")); appendDigits(UInt64(date.secondOfDay % 60), minimumWidth: 2, to: &out)
        if digits > 0 {
            var fraction = nanos
            for _ in digits..<9 { fraction /= 10 }
            out.append(UInt8(ascii: "."))
            appendDigits(UInt64(fraction), minimumWidth: digits, to: &out)
        }
        out.append(UInt8(ascii: "Z"))
    }
}
